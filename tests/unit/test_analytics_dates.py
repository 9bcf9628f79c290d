"""Report periods from what people type: dates, `30d`, this month, last quarter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.analytics import AnalyticsError, parse_moment

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("this month", at(2026, 11, 1), NOW),
        ("last month", at(2026, 10, 1), at(2026, 11, 1)),
        ("this week", at(2026, 11, 23), NOW),
        ("Last  Week", at(2026, 11, 16), at(2026, 11, 23)),
        ("this quarter", at(2026, 10, 1), NOW),
        ("last quarter", at(2026, 7, 1), at(2026, 10, 1)),
        ("this year", at(2026, 1, 1), NOW),
        ("today", at(2026, 11, 25), NOW),
        ("yesterday", at(2026, 11, 24), at(2026, 11, 25)),
        ("2026-11-03", at(2026, 11, 3), at(2026, 11, 4)),
    ],
)
def test_named_spans_and_days(text: str, start: datetime, end: datetime) -> None:
    assert parse_moment(text, now=NOW) == start
    assert parse_moment(text, end=True, now=NOW) == end


def test_relative_and_iso_times() -> None:
    assert parse_moment("30d", now=NOW) == NOW - timedelta(days=30)
    assert parse_moment("2 weeks ago", now=NOW) == NOW - timedelta(days=14)
    assert parse_moment("2026-11-03T09:30:00Z", end=True, now=NOW) == datetime(
        2026, 11, 3, 9, 30, tzinfo=UTC
    )
    assert parse_moment("2026-11-03T09:30:00+05:30", now=NOW) == datetime(
        2026, 11, 3, 4, 0, tzinfo=UTC
    )


def test_month_arithmetic_crosses_the_year() -> None:
    january = datetime(2026, 1, 15, tzinfo=UTC)
    assert parse_moment("last month", now=january) == at(2025, 12, 1)
    assert parse_moment("last quarter", now=january) == at(2025, 10, 1)


def test_unknown_words_are_refused_with_the_formats() -> None:
    with pytest.raises(AnalyticsError, match="'next tuesday' is not a date: use YYYY-MM-DD"):
        parse_moment("next tuesday", now=NOW)
