"""Dates as people read them in plain text: the CLI, notification fallbacks, modal labels."""

from __future__ import annotations

from datetime import UTC, datetime


def plain_when(moment: datetime | str | None, *, year: bool = False) -> str:
    """A UTC date to the minute from a datetime or an ISO string: "Thu 26 Nov 14:49 UTC"
    (notifications about this week), or "Thu 26 Nov 2026 14:49 UTC" with `year` (histories)."""
    if moment is None:
        return "?"
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{at:%a %d %b %Y %H:%M} UTC" if year else f"{at:%a %d %b %H:%M} UTC"
