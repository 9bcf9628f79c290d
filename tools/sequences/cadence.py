"""Default spacing of a sequence's touches: Fibonacci-like days 1, 3, 6, 11, 19, 32, then monthly.

DOMAIN.md asks for 9-12 touches over about 60 days. The Fibonacci days alone give six in that
window, so when more touches are wanted the longest gaps are split (the window's end counts as
a boundary), which keeps the tight start and spaces the rest about a week apart.
"""

from __future__ import annotations

import math
from itertools import pairwise

from tools.sequences.errors import SequenceError

FIBONACCI_DAYS: tuple[int, ...] = (1, 3, 6, 11, 19, 32)
MONTH_DAYS = 30
MIN_GAP_DAYS = 2
MIN_WINDOW, MAX_WINDOW = 7, 365
MAX_TOUCHES = 24


def anchor_days(days: int) -> list[int]:
    """The Fibonacci days inside the window, then one touch a month."""
    out = [day for day in FIBONACCI_DAYS if day <= days]
    following = FIBONACCI_DAYS[-1] + MONTH_DAYS
    while following <= days:
        out.append(following)
        following += MONTH_DAYS
    return out


def default_touches(days: int) -> int:
    """About one touch every six days (10 over 60 days), at least 3 and at most 12."""
    return max(3, min(12, round(days / 6)))


def schedule_days(days: int = 60, touches: int | None = None) -> list[int]:
    """Day offsets of `touches` touches over a window of `days` days."""
    if not MIN_WINDOW <= days <= MAX_WINDOW:
        raise SequenceError(f"days must be between {MIN_WINDOW} and {MAX_WINDOW}, got {days}")
    target = default_touches(days) if touches is None else touches
    most = days // MIN_GAP_DAYS
    if not 1 <= target <= min(MAX_TOUCHES, most):
        raise SequenceError(
            f"touches must be between 1 and {min(MAX_TOUCHES, most)} for {days} days "
            f"(at least {MIN_GAP_DAYS} days apart), got {target}"
        )
    points = anchor_days(days)
    if target <= len(points):
        # Fewer touches: keep the first and last anchors and spread the rest between them.
        if target == 1:
            return points[:1]
        picks = [round(i * (len(points) - 1) / (target - 1)) for i in range(target)]
        return [points[i] for i in picks]
    while len(points) < target:
        points = _split_longest_gap(points, days)
    return points


def _split_longest_gap(points: list[int], days: int) -> list[int]:
    # (gap length, insert position, new day); the tail gap runs to the window's end.
    options = [
        (after - before, index + 1, before + math.ceil((after - before) / 2))
        for index, (before, after) in enumerate(pairwise(points))
    ]
    tail = days - points[-1]
    options.append((tail, len(points), points[-1] + math.ceil(tail / 2)))
    gap, position, day = max(options, key=lambda option: (option[0], -option[1]))
    if gap < 2 * MIN_GAP_DAYS:
        raise SequenceError(f"no room for another touch {MIN_GAP_DAYS}+ days from the others")
    return [*points[:position], day, *points[position:]]
