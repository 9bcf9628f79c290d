"""Slack cards: claim a card before posting it, record where it went, mark reminders once.
A card carries an approval, a hand-off or a delivery task (a video to record, an SDR step).

Like `crud`, every function takes `session` keyword-only and never commits. Claims and marks
are single conditional writes, so two processes (the web app and the worker) never post the
same card or send the same reminder twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import Approval, DeliveryTask, Handoff, SlackCard

CardKind = Literal["approval", "handoff", "task"]
# The table each kind of card stands for, and the status in which it still wants a person.
_WAITING: dict[str, tuple[type[Approval] | type[Handoff] | type[DeliveryTask], str]] = {
    "approval": (Approval, "pending"),
    "handoff": (Handoff, "pending"),
    "task": (DeliveryTask, "open"),
}
Mark = Literal["reminded_at", "escalated_at", "closed_at"]


def card_for(session: Session, *, kind: CardKind, ref_id: int) -> SlackCard | None:
    stmt = select(SlackCard).where(SlackCard.kind == kind, SlackCard.ref_id == ref_id)
    return session.exec(stmt).first()


def claim_card(
    session: Session, *, kind: CardKind, ref_id: int, now: datetime, stale_before: datetime
) -> SlackCard | None:
    """The right to post this card: a new claim, or a claim whose poster never finished (it
    died, or Slack refused) made before `stale_before`. None when someone else holds it."""
    try:
        with session.begin_nested():
            card = SlackCard(kind=kind, ref_id=ref_id, claimed_at=now)
            session.add(card)
            session.flush()
            return card
    except IntegrityError:
        pass
    taken = session.execute(
        update(SlackCard)
        .where(
            col(SlackCard.kind) == kind,
            col(SlackCard.ref_id) == ref_id,
            col(SlackCard.ts).is_(None),
            col(SlackCard.claimed_at) < stale_before,
        )
        .values(claimed_at=now)
        .returning(col(SlackCard.id))
    ).first()
    if taken is None:
        return None
    return session.get(SlackCard, taken[0], populate_existing=True)


def record_posted(session: Session, *, card_id: int, channel: str, ts: str, at: datetime) -> None:
    session.execute(
        update(SlackCard)
        .where(col(SlackCard.id) == card_id)
        .values(channel=channel, ts=ts, posted_at=at, last_error=None)
    )


def record_error(session: Session, *, card_id: int, error: str) -> None:
    """Keep the claim (it is retried once stale) and say what went wrong."""
    session.execute(
        update(SlackCard).where(col(SlackCard.id) == card_id).values(last_error=error[:500])
    )


def mark_once(session: Session, *, card_id: int, field: Mark, at: datetime) -> bool:
    """Set `field` if it is still empty. False: another pass already did (or is doing) it."""
    column = getattr(SlackCard, field)
    done = session.execute(
        update(SlackCard)
        .where(col(SlackCard.id) == card_id, col(column).is_(None))
        .values({field: at})
        .returning(col(SlackCard.id))
    ).first()
    return done is not None


def unmark(session: Session, *, card_id: int, field: Mark) -> None:
    """Undo a mark whose message could not be sent, so the next pass tries again."""
    session.execute(update(SlackCard).where(col(SlackCard.id) == card_id).values({field: None}))


def unposted(
    session: Session, *, kind: CardKind, stale_before: datetime, limit: int = 100
) -> list[int]:
    """Pending approvals, open hand-offs or open tasks (oldest first) with no card yet, or
    whose card was claimed before `stale_before` and never posted."""
    table, waiting = _WAITING[kind]
    stmt = (
        select(col(table.id))
        .outerjoin(
            SlackCard,
            (col(SlackCard.kind) == kind) & (col(SlackCard.ref_id) == col(table.id)),
        )
        .where(col(table.status) == waiting)
        .where(
            or_(
                col(SlackCard.id).is_(None),
                col(SlackCard.ts).is_(None) & (col(SlackCard.claimed_at) < stale_before),
            )
        )
        .order_by(col(table.created_at), col(table.id))
        .limit(limit)
    )
    return [int(i) for i in session.exec(stmt) if i is not None]


def open_cards(session: Session, *, kind: CardKind) -> list[SlackCard]:
    """Posted cards that still show buttons (their decision is not on the card yet)."""
    stmt = (
        select(SlackCard)
        .where(
            SlackCard.kind == kind,
            col(SlackCard.ts).is_not(None),
            col(SlackCard.closed_at).is_(None),
        )
        .order_by(col(SlackCard.id))
    )
    return list(session.exec(stmt))
