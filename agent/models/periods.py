"""Dates in words for the offline model: reporting periods and send times.

'this month', 'last 30 days', 'since 2026-10-01', 'in october' become (since, until) dates;
'tomorrow at 9am', 'in 3 days', 'on friday' become an ISO send time. Counted from `today`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def period(text: str, today: date) -> tuple[date | None, date | None]:
    """(since, until) inclusive dates for 'this month', 'last 30 days', 'since 2026-10-01', ..."""
    month_start = today.replace(day=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    week_start = today - timedelta(days=today.weekday())
    last_month = (_prev_month(month_start), month_start - timedelta(1))
    last_week = (week_start - timedelta(7), week_start - timedelta(1))
    last_quarter = (_prev_quarter(quarter_start), quarter_start - timedelta(1))
    last_year = (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    fixed: tuple[tuple[str, tuple[date | None, date | None]], ...] = (
        (r"\bthis month\b|\bmonth to date\b|\bmtd\b", (month_start, None)),
        (r"\b(?:last|previous|past) month\b", last_month),
        (r"\bthis week\b", (week_start, None)),
        (r"\b(?:last|previous|past) week\b", last_week),
        (r"\bthis quarter\b|\bqtd\b", (quarter_start, None)),
        (r"\b(?:last|previous) quarter\b", last_quarter),
        (r"\bthis year\b|\bytd\b|\byear to date\b", (date(today.year, 1, 1), None)),
        (r"\b(?:last|previous) year\b", last_year),
        (r"\btoday\b", (today, today)),
        (r"\byesterday\b", (today - timedelta(1), today - timedelta(1))),
    )
    for pattern, value in fixed:
        if re.search(pattern, text):
            return value
    found = re.search(r"\b(?:last|past|previous)\s+(\d{1,3})\s+(day|week|month)s?\b", text)
    if found:
        days = int(found.group(1)) * {"day": 1, "week": 7, "month": 30}[found.group(2)]
        return today - timedelta(days=days), None
    dates = [date.fromisoformat(d) for d in re.findall(r"\b(\d{4}-\d{2}-\d{2})\b", text)]
    if len(dates) >= 2 and re.search(r"\b(?:from|between)\b", text):
        return min(dates[:2]), max(dates[:2])
    if dates and re.search(r"\b(?:since|after|from)\b", text):
        return dates[0], None
    month = re.search(r"\b(?:in|since|for|during)\s+([a-z]{3,9})\b", text)
    if month and month.group(1) in MONTHS:
        start = date(today.year, MONTHS[month.group(1)], 1)
        if start > today:
            start = start.replace(year=today.year - 1)
        if text[month.start() :].startswith("since"):
            return start, None
        return start, _next_month(start) - timedelta(1)
    return None, None


def _prev_month(month_start: date) -> date:
    return (month_start - timedelta(days=1)).replace(day=1)


def _next_month(month_start: date) -> date:
    return (month_start + timedelta(days=32)).replace(day=1)


def _prev_quarter(quarter_start: date) -> date:
    return _prev_month(_prev_month(_prev_month(quarter_start)))


def send_time(text: str, today: date) -> str | None:
    """When to send: 'now', 'tomorrow at 9am', 'in 3 days', 'on friday', '2026-12-01 10:00'."""
    if re.search(r"\b(?:right )?now\b|\bimmediately\b|\bright away\b|\basap\b", text):
        return "now"
    clock = _clock(text)
    found = re.search(r"\b(\d{4}-\d{2}-\d{2})(?:[t ](\d{1,2}:\d{2}))?\b", text)
    if found:
        day = date.fromisoformat(found.group(1))
        at = time.fromisoformat(found.group(2).zfill(5)) if found.group(2) else clock
        return _iso(day, at)
    if re.search(r"\btomorrow\b", text):
        return _iso(today + timedelta(days=1), clock)
    found = re.search(r"\bin\s+(\d{1,2})\s+(hour|day|week)s?\b", text)
    if found:
        amount = int(found.group(1))
        if found.group(2) == "hour":
            moment = datetime.combine(today, time(9)) + timedelta(hours=amount)
            return moment.isoformat(timespec="minutes")
        return _iso(today + timedelta(days=amount * (7 if found.group(2) == "week" else 1)), clock)
    found = re.search(r"\b(?:on\s+|next\s+)(" + "|".join(WEEKDAYS) + r")\b", text)
    if found:
        ahead = (WEEKDAYS.index(found.group(1)) - today.weekday()) % 7 or 7
        return _iso(today + timedelta(days=ahead), clock)
    return None


def _clock(text: str) -> time | None:
    found = re.search(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b", text) or re.search(
        r"\bat\s+(\d{1,2}):(\d{2})\b()", text
    )
    if not found:
        return None
    hour, minute = int(found.group(1)) % 24, int(found.group(2) or 0)
    if found.group(3) == "pm" and hour < 12:
        hour += 12
    if found.group(3) == "am" and hour == 12:
        hour = 0
    return time(hour, min(minute, 59))


def _iso(day: date, at: time | None) -> str:
    return datetime.combine(day, at or time(9)).isoformat(timespec="minutes")
