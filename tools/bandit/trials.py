"""Assignments meet their sends: an assignment goes with the touch that carries its variant when
the touch is queued, and its arm counts one trial when that touch is sent.

Trials are exactly the sends: a bandit that counted only sends with engagement would
over-estimate every arm, and one that counted every assignment would count drafts that were
held by the guardrails, rejected by a person or cancelled at send time. Successes
(`tools.bandit.experiments.record_engagement`) only come from sends counted here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from store.models import Experiment, ExperimentArm, ExperimentAssignment, Touch
from tools.bandit.variants import TEXT_DIMENSIONS

# The touch channel that carries each format variant.
FORMAT_CHANNELS = {"text": "email", "video": "video"}


def chosen_ids(chosen: Iterable[Mapping[str, Any]] | None) -> list[int]:
    """The assignment ids in a draft's `experiments` (each `Choice.as_dict()`)."""
    return [int(c["assignment_id"]) for c in chosen or () if c.get("assignment_id") is not None]


def attach_to_draft(
    session: Session, *, lead_id: int, draft_id: int, assignment_ids: Iterable[int]
) -> int:
    """The draft made with these variants, for a draft queued later (the chat's draft, then its
    `schedule_touch`). Returns how many were attached."""
    return _link(session, list(assignment_ids), lead_id=lead_id, draft_id=draft_id)


def link_queued_touch(
    session: Session, queued: Mapping[str, Any], *, chosen: Iterable[Mapping[str, Any]] | None
) -> int:
    """The agent queued a touch (`queued`: its `touch_id` and `draft_id`): it takes its draft's
    variants (`chosen`) and the format the decision picked for the lead. Returns how many
    assignments were linked."""
    touch = session.get(Touch, queued.get("touch_id"))
    if touch is None or touch.id is None:
        return 0
    ids = chosen_ids(chosen)
    pending = _pending_format(session, touch.lead_id)
    if pending is not None:
        ids.append(pending)
    return _link(
        session,
        ids,
        lead_id=touch.lead_id,
        draft_id=queued.get("draft_id"),
        touch_id=touch.id,
        channel=touch.channel,
    )


def link_draft_touch(session: Session, *, draft_id: int, touch_id: int, channel: str) -> int:
    """A draft queued as a touch after it was made: its assignments go with the touch."""
    stmt = select(ExperimentAssignment.id, ExperimentAssignment.lead_id).where(
        ExperimentAssignment.draft_id == draft_id, col(ExperimentAssignment.touch_id).is_(None)
    )
    rows = list(session.exec(stmt))
    if not rows:
        return 0
    ids = [int(assignment_id or 0) for assignment_id, _ in rows]
    return _link(session, ids, lead_id=rows[0][1], touch_id=touch_id, channel=channel)


def count_sends(session: Session, *, touch_id: int, at: datetime) -> int:
    """The touch went out: each of its assignments counts one trial for its arm, once (a
    recovered or repeated mark counts nothing). Returns the trials counted."""
    counted = session.execute(
        update(ExperimentAssignment)
        .where(
            col(ExperimentAssignment.touch_id) == touch_id,
            col(ExperimentAssignment.sent_at).is_(None),
        )
        .values(sent_at=at)
        .returning(col(ExperimentAssignment.arm_id))
    ).all()
    for arm_id, sends in Counter(int(row[0]) for row in counted).items():
        session.execute(
            update(ExperimentArm)
            .where(col(ExperimentArm.id) == arm_id)
            .values(trials=ExperimentArm.trials + sends)
        )
    return len(counted)


def fits(dimension: str, value: str, channel: str | None) -> bool:
    """Whether a variant is what a touch on `channel` carries: subjects and calls to action
    only in emails (an SDR task's suggested message has no subject line the lead sees), a
    format only in its own channel; hour bands in any."""
    if channel is None:
        return True
    if dimension in TEXT_DIMENSIONS:
        return channel == "email"
    if dimension == "format":
        return FORMAT_CHANNELS.get(value) == channel
    return True


def _pending_format(session: Session, lead_id: int) -> int | None:
    """The lead's latest format assignment not yet with a draft or a touch, of a running
    experiment (the decision picks the format before the draft exists)."""
    stmt = (
        select(ExperimentAssignment.id)
        .join(Experiment, col(Experiment.id) == col(ExperimentAssignment.experiment_id))
        .where(
            ExperimentAssignment.lead_id == lead_id,
            Experiment.dimension == "format",
            Experiment.status == "running",
            col(ExperimentAssignment.draft_id).is_(None),
            col(ExperimentAssignment.touch_id).is_(None),
        )
        .order_by(col(ExperimentAssignment.id).desc())
        .limit(1)
    )
    found = session.exec(stmt).first()
    return int(found) if found is not None else None


def _link(
    session: Session,
    ids: list[int],
    *,
    lead_id: int,
    draft_id: int | None = None,
    touch_id: int | None = None,
    channel: str | None = None,
) -> int:
    """Set the draft and the touch of the lead's assignments among `ids` that no touch has
    yet and that fit the channel."""
    if not ids:
        return 0
    stmt = (
        select(ExperimentAssignment.id, Experiment.dimension, ExperimentArm.value)
        .join(Experiment, col(Experiment.id) == col(ExperimentAssignment.experiment_id))
        .join(ExperimentArm, col(ExperimentArm.id) == col(ExperimentAssignment.arm_id))
        .where(
            col(ExperimentAssignment.id).in_(ids),
            ExperimentAssignment.lead_id == lead_id,
            col(ExperimentAssignment.touch_id).is_(None),
        )
    )
    if draft_id is not None:  # never moved from the draft it was made for to another
        stmt = stmt.where(
            or_(
                col(ExperimentAssignment.draft_id).is_(None),
                col(ExperimentAssignment.draft_id) == draft_id,
            )
        )
    keep = [
        int(i or 0) for i, dimension, value in session.exec(stmt) if fits(dimension, value, channel)
    ]
    if not keep:
        return 0
    values: dict[str, Any] = {"touch_id": touch_id} if touch_id is not None else {}
    if draft_id is not None:
        values["draft_id"] = draft_id
    if not values:
        return 0
    result = session.execute(
        update(ExperimentAssignment)
        .where(col(ExperimentAssignment.id).in_(keep), col(ExperimentAssignment.touch_id).is_(None))
        .values(**values)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
