"""Running sequences: when an enrolled lead's next step is due, and the hint that step gives.

An enrollment's `current_step` counts the steps done; `next_step_at` is when the next one is
due (day N after enrolment; the evergreen touch every `every_days` after the last step). When
it comes, the lead is due for the agent, which gets the step's stage, theme and channel as a
hint; the touch it drafts consumes the step. A step with a branch jumps ahead when the lead
did the branch's event within its window after that step's touch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from store import crud
from store.models import Enrollment, Event, Touch
from store.models import Sequence as SequenceRow
from tools.sequences.enrol import enrol
from tools.sequences.errors import SequenceError
from tools.sequences.model import BranchTarget, SequenceDefinition
from tools.sequences.registry import definition_of


def refresh_step_times(
    session: Session, *, now: datetime, lead_id: int | None = None, limit: int = 1000
) -> int:
    """Give running enrollments without one (of one lead, or any) their next step time; end
    finished ones."""
    stmt = (
        select(Enrollment, SequenceRow)
        .join(SequenceRow, col(SequenceRow.id) == Enrollment.sequence_id)
        .where(Enrollment.status == "active", col(Enrollment.next_step_at).is_(None))
        .where(SequenceRow.status == "active")
        .limit(limit)
    )
    if lead_id is not None:
        stmt = stmt.where(Enrollment.lead_id == lead_id)
    updated = 0
    for enrollment, sequence in session.exec(stmt).all():
        _set_next(session, enrollment, definition_of(sequence), now)
        updated += 1
    return updated


def step_hint(session: Session, *, lead_id: int, now: datetime) -> dict[str, Any] | None:
    """The hint of the lead's due sequence step, or None when no step is due."""
    enrollment = session.exec(
        select(Enrollment).where(
            Enrollment.lead_id == lead_id,
            Enrollment.status == "active",
            col(Enrollment.next_step_at) <= now,
        )
    ).first()
    if enrollment is None:
        return None
    sequence = session.get(SequenceRow, enrollment.sequence_id)
    if sequence is None or sequence.status != "active":
        return None
    definition = definition_of(sequence)
    target = _branch_target(session, definition, enrollment, now)
    if target is not None and target.sequence is not None:
        try:  # the branch moves the lead to another track; its first step comes next
            enrol(session, lead_id, sequence=target.sequence, now=now)
            return None
        except SequenceError:
            target = None  # that track is gone or paused: carry on in this one
    index = target.step - 1 if target is not None and target.step else enrollment.current_step
    return _hint(definition, enrollment, index)


def consume_step(session: Session, *, enrollment_id: int, step: int, at: datetime) -> None:
    """A touch was drafted for step `step` (numbered from 1): move on to the next one."""
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.status != "active":
        return
    sequence = session.get(SequenceRow, enrollment.sequence_id)
    if sequence is None:
        return
    enrollment.current_step = max(enrollment.current_step, step)
    _set_next(session, enrollment, definition_of(sequence), at, previous_at=at)


def _set_next(
    session: Session,
    enrollment: Enrollment,
    definition: SequenceDefinition,
    now: datetime,
    previous_at: datetime | None = None,
) -> None:
    index = enrollment.current_step
    if index < len(definition.steps):
        enrolled = _aware(enrollment.enrolled_at)
        enrollment.next_step_at = enrolled + timedelta(days=definition.steps[index].day)
    elif definition.evergreen is not None:
        last = previous_at or _last_touch_at(session, enrollment) or now
        enrollment.next_step_at = _aware(last) + timedelta(days=definition.evergreen.every_days)
    else:
        enrollment.next_step_at = None
        crud.end_enrollment(session, enrollment=enrollment, status="completed", at=now)
        return
    session.add(enrollment)


def _hint(
    definition: SequenceDefinition, enrollment: Enrollment, index: int
) -> dict[str, Any] | None:
    base = {"source": "sequence", "sequence": definition.name, "enrollment_id": enrollment.id}
    if index < len(definition.steps):
        step = definition.steps[index]
        return {
            **base,
            "step": index + 1,
            "stage": step.stage,
            "theme": step.theme,
            "channel": step.channel,
            "reason": f"(Sequence {definition.name}, step {index + 1}, day {step.day}: "
            f"{step.theme}; {step.goal}.)",
        }
    if definition.evergreen is None:
        return None
    evergreen = definition.evergreen
    return {
        **base,
        "step": index + 1,
        "stage": evergreen.stage,
        "theme": evergreen.theme,
        "channel": evergreen.channel,
        "reason": f"(Sequence {definition.name}, monthly touch: {evergreen.theme}.)",
    }


def _branch_target(
    session: Session, definition: SequenceDefinition, enrollment: Enrollment, now: datetime
) -> BranchTarget | None:
    """Where the last step's branch leads: `then` when the lead did the event in time,
    `otherwise` once the window passed without it, None to carry on in order."""
    done = enrollment.current_step
    if done == 0 or done > len(definition.steps):
        return None
    branch = definition.steps[done - 1].branch
    if branch is None:
        return None
    touch = session.exec(
        select(Touch)
        .where(Touch.enrollment_id == enrollment.id, Touch.step == done)
        .order_by(col(Touch.id))
    ).first()
    if touch is None:
        return None
    # The window opens when the lead got the touch (or was due to).
    start = _aware(touch.sent_at or touch.due_at or touch.created_at)
    end = start + timedelta(days=branch.within_days)
    did = session.exec(
        select(Event.id).where(
            Event.lead_id == enrollment.lead_id,
            Event.type == branch.when,
            col(Event.occurred_at) > start,
            col(Event.occurred_at) <= end,
        )
    ).first()
    target: BranchTarget | None
    if did is not None:
        target = branch.then
    elif _aware(now) >= end:
        target = branch.otherwise
    else:
        return None
    if target is not None and target.step is not None and target.step - 1 < done:
        return None  # never back to a step already done
    return target


def _last_touch_at(session: Session, enrollment: Enrollment) -> datetime | None:
    touches = session.exec(select(Touch).where(Touch.enrollment_id == enrollment.id)).all()
    moments = [_aware(t.sent_at or t.due_at or t.created_at) for t in touches]
    return max(moments) if moments else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
