"""The hand-off SLA in business hours: weekends, nights, time zones, DST, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tools.handoff import HandoffError, HandoffRule, SlaPolicy


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_friday_afternoon_runs_over_the_weekend() -> None:
    friday_3pm = utc(2026, 11, 27, 15, 0)
    assert friday_3pm.weekday() == 4
    # two hours on Friday, two on Monday morning
    assert SlaPolicy().deadline(friday_3pm) == utc(2026, 11, 30, 11, 0)


def test_weekend_and_night_starts_wait_for_opening() -> None:
    policy = SlaPolicy()
    assert policy.deadline(utc(2026, 11, 28, 10, 0)) == utc(2026, 11, 30, 13, 0)  # Saturday
    assert policy.deadline(utc(2026, 11, 24, 7, 30)) == utc(2026, 11, 24, 13, 0)  # before 9
    assert policy.deadline(utc(2026, 11, 24, 22, 0)) == utc(2026, 11, 25, 13, 0)  # after 17


def test_deadline_in_the_team_time_zone() -> None:
    kolkata = SlaPolicy(timezone="Asia/Kolkata")
    # Friday 10:00 UTC is 15:30 in Kolkata: 1.5 h left that day, 2.5 h on Monday -> 11:30 IST.
    assert kolkata.deadline(utc(2026, 11, 27, 10, 0)) == utc(2026, 11, 30, 6, 0)


def test_business_day_stays_local_across_a_clock_change() -> None:
    london = SlaPolicy(timezone="Europe/London")
    # Friday 16:00 BST (15:00 UTC); clocks go back on Sunday 25 October 2026.
    due = london.deadline(utc(2026, 10, 23, 15, 0))
    assert due == utc(2026, 10, 26, 12, 0)  # Monday 12:00 GMT: 1 h Friday + 3 h Monday


def test_holidays_are_skipped() -> None:
    policy = SlaPolicy(holidays=frozenset({date(2026, 11, 30)}))
    assert policy.deadline(utc(2026, 11, 27, 15, 0)) == utc(2026, 12, 1, 11, 0)


def test_business_hours_between_moments() -> None:
    policy = SlaPolicy()
    assert policy.business_hours(utc(2026, 11, 27, 16, 0), utc(2026, 11, 30, 10, 0)) == 2.0
    assert policy.business_hours(utc(2026, 11, 28, 9, 0), utc(2026, 11, 29, 17, 0)) == 0.0
    assert policy.business_hours(utc(2026, 11, 30, 10, 0), utc(2026, 11, 27, 16, 0)) == 0.0


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York"])
@pytest.mark.parametrize("hours", [0.5, 4, 11])
def test_deadline_is_exactly_the_sla_in_business_hours(zone: str, hours: float) -> None:
    policy = SlaPolicy(hours=hours, timezone=zone)
    start = utc(2026, 3, 2, 0, 0)
    for step in range(0, 24 * 21, 7):  # three weeks, every 7 h (hits nights and weekends)
        moment = start + timedelta(hours=step, minutes=13)
        due = policy.deadline(moment)
        assert due > moment
        assert policy.business_hours(moment, due) == pytest.approx(hours, abs=0.01)


def test_bad_policy_is_refused_clearly() -> None:
    with pytest.raises(HandoffError, match="NURTURE_BUSINESS_TIMEZONE"):
        SlaPolicy(timezone="Mars/Olympus")
    with pytest.raises(HandoffError, match="above 0"):
        SlaPolicy(hours=0)


def test_rule_describes_itself() -> None:
    text = HandoffRule(score_above=80, sla=SlaPolicy(hours=2)).describe()
    assert "above 80" in text and "2 business hours" in text and "demo_request" in text
