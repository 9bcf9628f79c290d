"""What `stop` and `pause` do at once, in the transaction that stored the event or the send."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from store import crud
from store.models import Enrollment, Lead, TriggerFiring


def stop_lead(session: Session, *, lead_id: int, why: str, now: datetime) -> dict[str, int]:
    """Stop everything for the lead: suppress its address, skip every touch not sent yet
    (with the reason), end its sequence and cancel the actions its triggers scheduled."""
    return stop_leads(session, whys={lead_id: why}, now=now)


def stop_leads(session: Session, *, whys: Mapping[int, str], now: datetime) -> dict[str, int]:
    """`stop_lead` for many leads (lead id -> why) in a few statements per reason."""
    if not whys:
        return {"touches_skipped": 0, "enrollments_ended": 0, "firings": 0}
    lead_ids = sorted(whys)
    emails = session.exec(select(Lead.id, Lead.email).where(col(Lead.id).in_(lead_ids))).all()
    crud.suppress_many(
        session,
        reasons={email: whys[int(lead_id or 0)].split(":")[0][:64] for lead_id, email in emails},
    )
    skipped = ended = cancelled = 0
    by_why: dict[str, list[int]] = {}
    for lead_id, why in whys.items():
        by_why.setdefault(why, []).append(lead_id)
    for why, ids in by_why.items():
        reason = f"stopped: {why}"
        skipped += len(crud.cancel_pending_touches_of(session, lead_ids=ids, reason=reason))
        ended += _end_enrollments(session, ids, now)
        cancelled += _cancel_firings(session, ids, reason, now)
    return {"touches_skipped": skipped, "enrollments_ended": ended, "firings": cancelled}


def _end_enrollments(session: Session, lead_ids: list[int], now: datetime) -> int:
    result = session.execute(
        update(Enrollment)
        .where(
            col(Enrollment.lead_id).in_(lead_ids),
            col(Enrollment.status).in_(["active", "paused"]),
        )
        .values(status="exited", ended_at=now, next_step_at=None)
        .returning(col(Enrollment.id))
    )
    return len(result.all())


def pause_lead(session: Session, *, lead_id: int, until: datetime, why: str) -> dict[str, int]:
    """Hold the lead until `until`: skip the touches waiting to go out and move the next
    sequence step past the pause (the agent's own fatigue rule waits as well)."""
    skipped = crud.cancel_pending_touches(session, lead_id=lead_id, reason=f"paused: {why}")
    moved = 0
    for enrollment in session.exec(
        select(Enrollment).where(Enrollment.lead_id == lead_id, Enrollment.status == "active")
    ):
        if enrollment.next_step_at is None or enrollment.next_step_at < until:
            enrollment.next_step_at = until
            session.add(enrollment)
            moved += 1
    return {"touches_skipped": len(skipped), "steps_moved": moved}


def cancel_firings(session: Session, *, lead_id: int, why: str, now: datetime) -> int:
    """Cancel the lead's pending trigger actions (a stop makes them moot)."""
    return _cancel_firings(session, [lead_id], why, now)


def _cancel_firings(session: Session, lead_ids: list[int], why: str, now: datetime) -> int:
    result = session.execute(
        update(TriggerFiring)
        .where(col(TriggerFiring.lead_id).in_(lead_ids), col(TriggerFiring.status) == "pending")
        .values(status="cancelled", done_at=now, result=why[:500])
        .returning(col(TriggerFiring.id))
    )
    return len(result.all())
