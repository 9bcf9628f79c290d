"""Enrolment: one running nurture sequence per lead, chosen by segment, moved between tracks.

Among the active sequences whose enrol rules match the lead's current segments, the highest
priority wins (shipped: post-demo > re-engagement > enterprise > core), so a demo request moves
a lead to post-demo, 90 silent days to re-engagement and a company above 500 people to the
enterprise track. A lead keeps its sequence while it still matches and nothing outranks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store import crud
from store.models import Enrollment, Lead, utcnow
from store.models import Sequence as SequenceRow
from tools.segments.rules import slug
from tools.sequences.errors import SequenceError
from tools.sequences.model import SequenceDefinition
from tools.sequences.registry import definition_of, get_sequence

OUT_OF_NURTURE = ("sql", "customer", "disqualified")


def matches(patterns: Iterable[str], segments: Iterable[str]) -> bool:
    """Whether any segment matches any pattern (`mofu:*`, `enterprise`, ...)."""
    names = list(segments)
    return any(fnmatchcase(name, pattern) for pattern in patterns for name in names)


@dataclass(frozen=True)
class LeadFacts:
    """What enrolment rules look at."""

    segments: Sequence[str]
    lifecycle: str
    industry: str | None = None  # slug, e.g. financial-services
    company_size: int | None = None

    @classmethod
    def of(cls, lead: Lead, segments: Sequence[str]) -> LeadFacts:
        industry = slug(lead.industry) if lead.industry else None
        return cls(list(segments), str(lead.lifecycle_stage), industry or None, lead.company_size)


def may_enter(
    definition: SequenceDefinition, facts: LeadFacts, event_type: str | None = None
) -> bool:
    """Whether a lead may enter now. A sequence with `on_events` takes a matching lead only at
    the moment it does one of those events ("fintech leads who downloaded ...")."""
    if definition.enrol.on_events and event_type not in definition.enrol.on_events:
        return False
    return fits(definition, facts)


def fits(definition: SequenceDefinition, facts: LeadFacts) -> bool:
    """Whether the lead belongs in the sequence by segments, stage, industry and size."""
    rules = definition.enrol
    if facts.lifecycle not in rules.lifecycle or matches(rules.exclude_segments, facts.segments):
        return False
    if rules.industries and facts.industry not in rules.industries:
        return False
    if rules.company_size is not None and not rules.company_size.holds(facts.company_size):
        return False
    return matches(rules.segments, facts.segments)


def exit_reason(
    definition: SequenceDefinition,
    *,
    segments: Sequence[str],
    lifecycle: str,
    event_type: str | None = None,
) -> str | None:
    """Why a lead must leave this sequence now, or None."""
    rules = definition.exit
    if event_type is not None and event_type in rules.events:
        return f"event {event_type}"
    if lifecycle in rules.lifecycle:
        return f"lifecycle {lifecycle}"
    hit = [s for s in segments if matches(rules.segments, [s])]
    return f"segment {hit[0]}" if hit else None


@dataclass(frozen=True)
class EnrolResult:
    lead_id: int
    action: str  # enrolled | moved | kept | exited | none
    sequence: str | None  # where the lead is now (None: in no sequence)
    previous: str | None = None  # the sequence it left, when it moved or exited
    reason: str = ""
    enrollment_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "action": self.action,
            "sequence": self.sequence,
            "previous": self.previous,
            "reason": self.reason,
            "enrollment_id": self.enrollment_id,
        }


def enrol(
    session: Session,
    lead: Lead | int,
    *,
    sequence: str | None = None,
    segments: Iterable[str] | None = None,
    event_type: str | None = None,
    now: datetime | None = None,
) -> EnrolResult:
    """Put the lead in the right sequence (or `sequence`, when named), ending any other.

    Call it after segmentation and on each event (`event_type`): exit rules fire first, then the
    best matching track is chosen. Leads out of nurture (SQL, customer, disqualified, excluded,
    or not emailable) leave their sequence and enter none.
    """
    now = now or utcnow()
    row = session.get(Lead, lead) if isinstance(lead, int) else lead
    if row is None or row.id is None:
        raise SequenceError(f"no lead with id {lead}")
    lead_id = row.id
    current_segments = (
        sorted(segments)
        if segments is not None
        else crud.current_segments(session, lead_id=lead_id)
    )
    lifecycle = str(row.lifecycle_stage)
    facts = LeadFacts.of(row, current_segments)
    current = crud.current_enrollment(session, lead_id=lead_id)
    current_seq = session.get(SequenceRow, current.sequence_id) if current is not None else None

    out = _out_of_nurture(session, row, current_segments)
    if out is not None:
        return _leave(session, current, current_seq, lead_id, now, out)

    left: str | None = None
    if current is not None and current_seq is not None:
        why = exit_reason(
            definition_of(current_seq),
            segments=current_segments,
            lifecycle=lifecycle,
            event_type=event_type,
        )
        if why is not None:
            _leave(session, current, current_seq, lead_id, now, why)
            left, current, current_seq = current_seq.name, None, None

    target: SequenceRow | None
    if sequence is not None:
        target = get_sequence(session, sequence)
        if target.status != "active":
            raise SequenceError(f"sequence {sequence!r} is {target.status}; activate it first")
    else:
        target = _best_track(session, lead_id, facts, event_type, skip={left} - {None})
    if target is None:
        if current is not None and current_seq is not None:
            return EnrolResult(lead_id, "kept", current_seq.name, reason="no other track fits")
        if left is not None:
            return EnrolResult(lead_id, "exited", None, left, reason=f"left {left}")
        return EnrolResult(lead_id, "none", None, reason="no active sequence matches the lead")

    if current is not None and current_seq is not None:
        if current_seq.id == target.id:
            return EnrolResult(lead_id, "kept", target.name, enrollment_id=current.id)
        if sequence is None and _still_fits(current_seq, target, facts):
            return EnrolResult(
                lead_id, "kept", current_seq.name, reason=f"{current_seq.name} still fits"
            )
        crud.end_enrollment(session, enrollment=current, status="exited", at=now)
        left = current_seq.name

    enrollment = _start(session, lead_id, target, now)
    action = "moved" if left is not None else "enrolled"
    reason = f"segments {', '.join(current_segments) or '(none)'} match {target.name}"
    return EnrolResult(lead_id, action, target.name, left, reason, enrollment.id)


def _out_of_nurture(session: Session, lead: Lead, segments: Sequence[str]) -> str | None:
    stage = str(lead.lifecycle_stage)
    if stage in OUT_OF_NURTURE:
        return f"lifecycle {stage}"
    if "excluded" in segments:
        return "segment excluded"
    if not crud.may_email(session, lead=lead):
        return "may not be emailed (consent, do-not-email or suppression)"
    return None


def _leave(
    session: Session,
    current: Enrollment | None,
    current_seq: SequenceRow | None,
    lead_id: int,
    now: datetime,
    why: str,
) -> EnrolResult:
    if current is None:
        return EnrolResult(lead_id, "none", None, reason=why)
    crud.end_enrollment(session, enrollment=current, status="exited", at=now)
    name = current_seq.name if current_seq is not None else None
    return EnrolResult(lead_id, "exited", None, name, why, current.id)


def _best_track(
    session: Session,
    lead_id: int,
    facts: LeadFacts,
    event_type: str | None,
    skip: set[str | None],
) -> SequenceRow | None:
    done = _completed(session, lead_id)
    candidates = []
    for row in crud.list_sequences(session, status="active"):
        if row.name in skip or row.id in done:
            continue
        definition = definition_of(row)
        if may_enter(definition, facts, event_type):
            candidates.append((-definition.priority, row.name, row))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None


def _still_fits(current: SequenceRow, target: SequenceRow, facts: LeadFacts) -> bool:
    if current.status != "active":
        return False
    mine, theirs = definition_of(current), definition_of(target)
    return fits(mine, facts) and mine.priority >= theirs.priority


def _completed(session: Session, lead_id: int) -> set[int]:
    """Sequences this lead finished: not restarted automatically."""
    stmt = select(Enrollment.sequence_id).where(
        Enrollment.lead_id == lead_id, col(Enrollment.status) == "completed"
    )
    return set(session.exec(stmt))


def _start(session: Session, lead_id: int, target: SequenceRow, now: datetime) -> Enrollment:
    assert target.id is not None
    try:
        with session.begin_nested():  # another writer may have enrolled the lead meanwhile
            return crud.start_enrollment(session, lead_id=lead_id, sequence_id=target.id, at=now)
    except IntegrityError:
        running = crud.current_enrollment(session, lead_id=lead_id)
        if running is None:
            raise
        return running
