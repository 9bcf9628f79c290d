"""Default spacing: Fibonacci-like days, 9-12 touches over about 60 days, monthly after."""

from __future__ import annotations

from itertools import pairwise

import pytest

from tools.sequences.cadence import (
    FIBONACCI_DAYS,
    MIN_GAP_DAYS,
    anchor_days,
    default_touches,
    schedule_days,
)
from tools.sequences.errors import SequenceError


def test_default_sixty_days_keeps_the_fibonacci_start_and_fits_nine_to_twelve() -> None:
    days = schedule_days()
    assert 9 <= len(days) <= 12
    assert days[:5] == list(FIBONACCI_DAYS[:5])
    assert set(FIBONACCI_DAYS) <= set(days)
    assert days[-1] <= 60 and days[-1] >= 45  # reaches into the last weeks of the window
    gaps = [b - a for a, b in pairwise(days)]
    assert min(gaps) >= MIN_GAP_DAYS and max(gaps) <= 10  # not looser than every 10th day


def test_anchors_then_monthly() -> None:
    assert anchor_days(60) == list(FIBONACCI_DAYS)
    assert anchor_days(125) == [*FIBONACCI_DAYS, 62, 92, 122]
    assert schedule_days(60, 6) == list(FIBONACCI_DAYS)


@pytest.mark.parametrize("window", [14, 30, 60, 90, 180])
def test_every_touch_count_is_honoured(window: int) -> None:
    for touches in range(1, min(24, window // MIN_GAP_DAYS) + 1):
        try:
            days = schedule_days(window, touches)
        except SequenceError as exc:  # only when the window is genuinely full
            assert "no room" in str(exc)
            continue
        assert len(days) == touches
        assert all(0 < d <= window for d in days)
        assert all(b - a >= MIN_GAP_DAYS for a, b in pairwise(days))


def test_fewer_touches_spread_over_the_window() -> None:
    days = schedule_days(60, 4)
    assert days[0] == 1 and days[-1] == 32 and len(days) == 4


def test_default_touch_count_scales_with_the_window() -> None:
    assert default_touches(60) == 10
    assert default_touches(14) == 3 and default_touches(365) == 12


def test_bad_windows_are_refused() -> None:
    with pytest.raises(SequenceError, match="days must be between 7 and 365"):
        schedule_days(3)
    with pytest.raises(SequenceError, match="touches must be between 1 and"):
        schedule_days(60, 0)
    with pytest.raises(SequenceError, match="touches must be between 1 and 7 for 14 days"):
        schedule_days(14, 9)
