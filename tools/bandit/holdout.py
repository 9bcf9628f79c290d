"""The holdout cohort: a fixed share of leads, picked by a salted hash, gets the plain drip.

Membership depends only on the lead id, the salt and the share, so every process (web app,
worker, reports) agrees without storing anything, and raising the share only adds leads.
The uplift of nurture over the holdout is a difference of two conversion rates; each rate
gets a Wilson score interval and the difference Newcombe's hybrid interval built from them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Any

Z_95 = 1.959963984540054
BUCKETS = 10_000
# Below these the comparison is "not enough data yet": fewer leads in either cohort, or an
# interval for the difference that spans zero and is wider than 10 points.
MIN_COHORT = 50
MAX_CI_WIDTH = 0.10


@dataclass(frozen=True)
class HoldoutCohort:
    """Who is held out: `share` of the leads (0-1), picked by a hash salted with `salt`."""

    share: float
    salt: str


def holdout_bucket(lead_id: int, salt: str) -> int:
    """The lead's fixed bucket in [0, 10000): the first 8 bytes of sha256(salt:lead id)."""
    digest = hashlib.sha256(f"{salt}:{lead_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_holdout(lead_id: int, *, share: float, salt: str) -> bool:
    """True for the leads of the holdout cohort (about `share` of all leads)."""
    if not 0 <= share <= 1:
        raise ValueError(f"holdout share must lie between 0 and 1 (got {share})")
    return holdout_bucket(lead_id, salt) < round(share * BUCKETS)


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there is no trial at all."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Uplift:
    """Nurture's conversion against the holdout's, with 95 % intervals."""

    nurtured: int
    nurtured_converted: int
    holdout: int
    holdout_converted: int
    nurtured_rate: float | None
    holdout_rate: float | None
    nurtured_ci: tuple[float, float]
    holdout_ci: tuple[float, float]
    uplift: float | None  # absolute difference of the rates
    uplift_ci: tuple[float, float] | None
    relative_uplift: float | None  # uplift / holdout rate
    significant: bool  # the interval of the difference excludes zero

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def uplift(nurtured: int, nurtured_converted: int, holdout: int, holdout_converted: int) -> Uplift:
    """Difference of conversion rates, nurture minus holdout, with Newcombe's interval."""
    for name, total, won in (
        ("nurtured", nurtured, nurtured_converted),
        ("holdout", holdout, holdout_converted),
    ):
        if total < 0 or not 0 <= won <= total:
            raise ValueError(f"{name}: need 0 <= converted <= leads (got {won} of {total})")
    p1 = nurtured_converted / nurtured if nurtured else None
    p2 = holdout_converted / holdout if holdout else None
    ci1, ci2 = wilson(nurtured_converted, nurtured), wilson(holdout_converted, holdout)
    diff = diff_ci = relative = None
    if p1 is not None and p2 is not None:
        diff = p1 - p2
        low = diff - math.sqrt((p1 - ci1[0]) ** 2 + (ci2[1] - p2) ** 2)
        high = diff + math.sqrt((ci1[1] - p1) ** 2 + (p2 - ci2[0]) ** 2)
        diff_ci = (round(low, 4), round(high, 4))
        relative = round(diff / p2, 4) if p2 else None
    return Uplift(
        nurtured=nurtured,
        nurtured_converted=nurtured_converted,
        holdout=holdout,
        holdout_converted=holdout_converted,
        nurtured_rate=None if p1 is None else round(p1, 4),
        holdout_rate=None if p2 is None else round(p2, 4),
        nurtured_ci=(round(ci1[0], 4), round(ci1[1], 4)),
        holdout_ci=(round(ci2[0], 4), round(ci2[1], 4)),
        uplift=None if diff is None else round(diff, 4),
        uplift_ci=diff_ci,
        relative_uplift=relative,
        significant=diff_ci is not None and (diff_ci[0] > 0 or diff_ci[1] < 0),
    )


def verdict(result: Uplift, *, share: float | None = None) -> tuple[str, str]:
    """A code and a plain sentence for the uplift: `no_holdout`, `not_enough_data`,
    `nurture_ahead`, `holdout_ahead` or `no_clear_difference`."""
    if share == 0:
        return "no_holdout", (
            "No holdout cohort (NURTURE_HOLDOUT_SHARE is 0): every lead is nurtured, so there "
            "is nothing to compare with."
        )
    small = min(result.nurtured, result.holdout)
    if small < MIN_COHORT or result.uplift is None or result.uplift_ci is None:
        return "not_enough_data", (
            f"Not enough data yet: {result.holdout:,} holdout and {result.nurtured:,} nurtured "
            f"leads (at least {MIN_COHORT} in each are needed)."
        )
    low, high = result.uplift_ci
    figures = f"{points(result.uplift)} (95 % CI {low * 100:+.1f} to {high * 100:+.1f})"
    if low > 0:
        return "nurture_ahead", f"Nurture lifts conversion by {figures}."
    if high < 0:
        return "holdout_ahead", (
            f"The holdout converts better: {figures}; review what nurture sends."
        )
    if high - low > MAX_CI_WIDTH:
        return "not_enough_data", (
            f"Not enough data yet: the difference is {figures}, an interval too wide to tell."
        )
    return "no_clear_difference", f"No measurable uplift: {figures}."


def points(difference: float) -> str:
    """A difference of rates in percentage points, signed: 0.042 -> '+4.2 points'."""
    return f"{difference * 100:+.1f} points"
