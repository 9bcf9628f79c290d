"""Guardrails re-checked right before a touch goes out (not only when it was drafted): consent,
do-not-email and suppression; the lead still in nurture; no two touches within the gap; the
lead's send window (its hour band for a touch in a send-time experiment); the global daily cap
(which defers, never drops)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from store import crud
from store.models import Lead, OutboxMessage, Touch, TouchStatus
from tools.bandit.send_time import touch_window
from tools.cadence import SendWindow, next_send_slot, zone

OUT_OF_NURTURE = ("sql", "customer", "disqualified")


@dataclass(frozen=True)
class SendPolicy:
    window: SendWindow = field(default_factory=SendWindow)
    daily_cap: int = 2000  # emails per day; 0 = no cap
    cap_timezone: str = "UTC"  # whose day the daily cap counts
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    batch: int = 100


@dataclass(frozen=True)
class Verdict:
    kind: Literal["send", "defer", "cancel"]
    reason: str = ""
    until: datetime | None = None


SEND = Verdict("send")


def check(
    session: Session, *, touch: Touch, lead: Lead | None, now: datetime, policy: SendPolicy
) -> Verdict:
    """Whether this touch may go out now; when not, until when or why never."""
    if lead is None:
        return Verdict("cancel", "the lead no longer exists")
    if touch.status != TouchStatus.approved:
        return Verdict("cancel", f"the touch is {touch.status} (no longer approved)")
    why_not = opted_out(session, lead)
    if why_not:
        return Verdict("cancel", f"suppressed at send time: {why_not}")
    if str(lead.lifecycle_stage) in OUT_OF_NURTURE:
        return Verdict("cancel", f"left nurture at send time: lead is {lead.lifecycle_stage}")
    # A touch in a send-time experiment keeps to its hour band, also when it is put off.
    window = touch_window(session, touch_id=int(touch.id or 0), window=policy.window)
    last = last_sent_at(session, lead_id=int(lead.id or 0))
    gap = timedelta(days=window.min_gap_days)
    if last is not None and now < last + gap:
        until = next_send_slot(now, timezone=lead.timezone, last_touch_at=last, window=window)
        days = window.min_gap_days
        return Verdict("defer", f"frequency cap: a touch went out within {days:g} days", until)
    slot = next_send_slot(now, timezone=lead.timezone, window=_no_gap(window))
    if slot > now:
        where = "hour band" if window != policy.window else "send window"
        return Verdict("defer", f"outside the lead's {where}", slot)
    return SEND


def opted_out(session: Session, lead: Lead) -> str | None:
    """Why the lead may not be emailed, or None (`crud.may_email`, with the reason)."""
    if crud.may_email(session, lead=lead):
        return None
    if not lead.consent:
        return "no consent"
    if lead.do_not_email:
        return "do-not-email"
    return "on the suppression list"


def last_sent_at(session: Session, *, lead_id: int) -> datetime | None:
    """When the lead was last sent any touch (every channel and sequence counts)."""
    moment = session.exec(
        select(func.max(Touch.sent_at)).where(
            Touch.lead_id == lead_id, Touch.status == TouchStatus.sent
        )
    ).first()
    return _aware(moment) if moment is not None else None


def day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The start of today and of tomorrow (UTC) in `timezone`."""
    local = now.astimezone(zone(timezone))
    start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return start.astimezone(UTC), tomorrow.astimezone(UTC)


def emails_sent_today(session: Session, *, now: datetime, timezone: str) -> int:
    start, _ = day_bounds(now, timezone)
    stmt = select(func.count()).where(
        OutboxMessage.channel == "email",
        OutboxMessage.status == "sent",
        col(OutboxMessage.sent_at) >= start,
    )
    return int(session.exec(stmt).one())


def _no_gap(window: SendWindow) -> SendWindow:
    return SendWindow(
        start=window.start, end=window.end, weekdays_only=window.weekdays_only, min_gap_days=0
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
