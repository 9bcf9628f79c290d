"""The outbox table's moves: enqueue due touches, claim with a lease, mark sent, defer, cancel.

Every move after the claim is conditional on the row still being `sending` under this
worker's lease, so a row taken over after its lease ran out is never finished twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from store import crud
from store.models import OutboxMessage, Touch, TouchStatus, utcnow

ENQUEUE_LIMIT = 5_000


def enqueue_due(session: Session, *, now: datetime, message_id_of: Callable[[str], str]) -> int:
    """An outbox row for every approved touch that is due and has none yet."""
    queued = select(OutboxMessage.touch_id)
    stmt = (
        select(Touch)
        .where(Touch.status == TouchStatus.approved)
        .where(or_(col(Touch.due_at).is_(None), col(Touch.due_at) <= now))
        .where(col(Touch.id).not_in(queued))
        .order_by(col(Touch.due_at), col(Touch.id))
        .limit(ENQUEUE_LIMIT)
    )
    rows = [
        {
            "touch_id": touch.id,
            "lead_id": touch.lead_id,
            "idempotency_key": touch.idempotency_key,
            "message_id": message_id_of(touch.idempotency_key),
            "channel": touch.channel,
            "status": "queued",
            "due_at": touch.due_at or now,
            "attempts": 0,
            "deferrals": 0,
            "created_at": now,
        }
        for touch in session.exec(stmt)
    ]
    return crud.add_outbox_rows(session, rows=rows) if rows else 0


def claim(
    session: Session, *, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[int]:
    """Take up to `limit` due rows: queued ones, and ones whose sender's lease ran out (a
    worker that died mid-send); they are checked against the transport before any resend."""
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (col(OutboxMessage.status) == "queued") & (col(OutboxMessage.due_at) <= now),
                (col(OutboxMessage.status) == "sending") & (col(OutboxMessage.lease_until) < now),
            )
        )
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        .limit(limit)
    )
    ids = [int(i) for i in session.exec(due) if i is not None]
    if not ids:
        return []
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        # Re-checked under the row lock: a concurrent claimer cannot take the same row.
        .where(
            or_(
                col(OutboxMessage.status) == "queued",
                (col(OutboxMessage.status) == "sending") & (col(OutboxMessage.lease_until) < now),
            )
        )
        .values(
            status="sending",
            lease_owner=owner,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(col(OutboxMessage.id))
    )
    return sorted(int(row[0]) for row in result.all())


def _mine(row_id: int, owner: str) -> Any:
    return (
        (col(OutboxMessage.id) == row_id)
        & (col(OutboxMessage.status) == "sending")
        & (col(OutboxMessage.lease_owner) == owner)
    )


def mark_sent(
    session: Session, *, row_id: int, touch_id: int, owner: str, transport: str, at: datetime
) -> bool:
    """Record the delivery (outbox row and touch together); False if the lease was lost."""
    done = session.execute(
        update(OutboxMessage)
        .where(_mine(row_id, owner))
        .values(status="sent", sent_at=at, transport=transport, lease_owner=None, lease_until=None)
        .returning(col(OutboxMessage.id))
    ).first()
    if done is None:
        return False
    session.execute(
        update(Touch).where(col(Touch.id) == touch_id).values(status=TouchStatus.sent, sent_at=at)
    )
    return True


def defer(
    session: Session, *, row_id: int, touch_id: int, owner: str, until: datetime, reason: str
) -> bool:
    """Put the row back in the queue for `until` (the touch's due time moves with it)."""
    done = session.execute(
        update(OutboxMessage)
        .where(_mine(row_id, owner))
        .values(
            status="queued",
            due_at=until,
            lease_owner=None,
            lease_until=None,
            defer_reason=reason[:500],
            deferrals=OutboxMessage.deferrals + 1,
        )
        .returning(col(OutboxMessage.id))
    ).first()
    if done is None:
        return False
    session.execute(update(Touch).where(col(Touch.id) == touch_id).values(due_at=until))
    return True


def defer_all_due(session: Session, *, now: datetime, until: datetime, reason: str) -> int:
    """Put every due queued email off to `until` (the daily cap is reached)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == "queued",
            col(OutboxMessage.channel) == "email",
            col(OutboxMessage.due_at) <= now,
        )
        .values(due_at=until, defer_reason=reason[:500], deferrals=OutboxMessage.deferrals + 1)
        .returning(col(OutboxMessage.touch_id))
    )
    touch_ids = [int(row[0]) for row in result.all()]
    if touch_ids:
        session.execute(update(Touch).where(col(Touch.id).in_(touch_ids)).values(due_at=until))
    return len(touch_ids)


def cancel(session: Session, *, row_id: int, touch_id: int, owner: str, reason: str) -> bool:
    """Never send this touch: the outbox row is cancelled, the touch skipped with the reason."""
    return _finish(session, row_id, touch_id, owner, "cancelled", reason)


def fail(session: Session, *, row_id: int, touch_id: int, owner: str, reason: str) -> bool:
    """Give up after a permanent refusal or too many attempts."""
    return _finish(session, row_id, touch_id, owner, "failed", reason)


def retry_later(session: Session, *, row_id: int, owner: str, error: str, until: datetime) -> bool:
    """A transient failure (server down, 4xx): back to the queue with a backoff."""
    done = session.execute(
        update(OutboxMessage)
        .where(_mine(row_id, owner))
        .values(
            status="queued",
            due_at=until,
            lease_owner=None,
            lease_until=None,
            last_error=error[:2000],
        )
        .returning(col(OutboxMessage.id))
    ).first()
    return done is not None


def _finish(
    session: Session, row_id: int, touch_id: int, owner: str, status: str, reason: str
) -> bool:
    done = session.execute(
        update(OutboxMessage)
        .where(_mine(row_id, owner))
        .values(status=status, lease_owner=None, lease_until=None, last_error=reason[:2000])
        .returning(col(OutboxMessage.id))
    ).first()
    if done is None:
        return False
    session.execute(
        update(Touch)
        .where(col(Touch.id) == touch_id, col(Touch.status) != TouchStatus.sent)
        .values(status=TouchStatus.skipped, skip_reason=f"{status}: {reason}"[:500])
    )
    return True


def backoff(attempts: int, now: datetime | None = None) -> datetime:
    """30 s, 1 min, 2 min ... up to an hour after the n-th failed attempt."""
    seconds = min(3600, 30 * 2 ** max(0, attempts - 1))
    return (now or utcnow()) + timedelta(seconds=seconds)
