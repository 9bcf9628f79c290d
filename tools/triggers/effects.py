"""What `stop` and `pause` do at once, in the transaction that stored the event or the send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from store import crud
from store.models import Enrollment, Lead, TriggerFiring


def stop_lead(session: Session, *, lead_id: int, why: str, now: datetime) -> dict[str, int]:
    """Stop everything for the lead: suppress its address, skip every touch not sent yet
    (with the reason), end its sequence and cancel the actions its triggers scheduled."""
    lead = session.get(Lead, lead_id)
    if lead is not None:
        crud.suppress(session, email=lead.email, reason=why.split(":")[0][:64] or "manual")
    skipped = crud.cancel_pending_touches(session, lead_id=lead_id, reason=f"stopped: {why}")
    ended = 0
    for enrollment in session.exec(
        select(Enrollment).where(
            Enrollment.lead_id == lead_id, col(Enrollment.status).in_(["active", "paused"])
        )
    ):
        enrollment.next_step_at = None
        crud.end_enrollment(session, enrollment=enrollment, status="exited", at=now)
        ended += 1
    cancelled = cancel_firings(session, lead_id=lead_id, why=f"stopped: {why}", now=now)
    return {"touches_skipped": len(skipped), "enrollments_ended": ended, "firings": cancelled}


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
    result = session.execute(
        update(TriggerFiring)
        .where(col(TriggerFiring.lead_id) == lead_id, col(TriggerFiring.status) == "pending")
        .values(status="cancelled", done_at=now, result=why[:500])
        .returning(col(TriggerFiring.id))
    )
    return len(result.all())
