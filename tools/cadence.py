"""When a touch may go out: a per-lead gap between touches and business hours in the lead's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "UTC"


@dataclass(frozen=True)
class SendWindow:
    """Touches go out on weekdays between `start` and `end`, local time, `min_gap_days` apart."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays_only: bool = True
    min_gap_days: float = 4.0

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"send window start {self.start} must be before its end {self.end}")


def zone(name: str | None) -> ZoneInfo:
    """The lead's time zone; an unknown or missing one falls back to UTC."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def next_send_slot(
    now: datetime,
    *,
    timezone: str | None = None,
    last_touch_at: datetime | None = None,
    not_before: datetime | None = None,
    window: SendWindow | None = None,
) -> datetime:
    """The earliest moment (UTC) at or after `now` that respects the gap and the send window."""
    window = window or SendWindow()
    earliest = max(now, not_before or now)
    if last_touch_at is not None:
        earliest = max(earliest, last_touch_at + timedelta(days=window.min_gap_days))
    local = earliest.astimezone(zone(timezone))
    for _ in range(8):  # at most a weekend and a night away
        if window.weekdays_only and local.weekday() >= 5:
            local = _start_of(local + timedelta(days=7 - local.weekday()), window)
            continue
        if local.time() < window.start:
            local = _start_of(local, window)
        elif local.time() >= window.end:
            local = _start_of(local + timedelta(days=1), window)
            continue
        return local.astimezone(UTC)
    raise AssertionError("unreachable: a weekday slot is always within 8 steps")


def _start_of(local: datetime, window: SendWindow) -> datetime:
    return local.replace(
        hour=window.start.hour, minute=window.start.minute, second=0, microsecond=0
    )
