"""Dates as people read them in plain text: the CLI, notification fallbacks, modal labels."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime | str) -> datetime:
    """A datetime or ISO string in UTC (a naive one is taken as UTC already)."""
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def plain_when(moment: datetime | str | None, *, year: bool = False) -> str:
    """A UTC date to the minute: "Thu 26 Nov 14:49 UTC" (notifications about this week), or
    "Thu 26 Nov 2026 14:49 UTC" with `year` (histories, deadlines in a printout)."""
    if moment is None:
        return "?"
    pattern = "%a %d %b %Y %H:%M" if year else "%a %d %b %H:%M"
    return f"{as_utc(moment):{pattern}} UTC"
