"""Thompson sampling over Beta posteriors: pick an arm, its chance of being best, a winner.

Every arm starts from a uniform Beta(1, 1) prior; after `s` successes in `n` trials its
posterior is Beta(1 + s, 1 + n - s). Choosing samples one rate per arm and takes the largest,
except that a floor of exploration keeps every arm at a minimum share of the sends: with
probability `floor * arms` the pick is uniform instead, so no arm starves while the evidence
is still thin. The random generator is injected, so tests and simulations are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_FLOOR = 0.02  # each arm gets at least 2 % of the sends
DEFAULT_THRESHOLD = 0.95  # P(best) that declares a winner
DEFAULT_MIN_TRIALS = 200  # sends per arm before any winner is declared
MC_DRAWS = 20_000


class BanditError(ValueError):
    """A bandit asked something impossible (no arms, a negative count); the message says what."""


@dataclass(frozen=True)
class ArmStats:
    """What an arm has seen so far: trials (sends) and successes (the objective's events)."""

    successes: int
    trials: int

    def __post_init__(self) -> None:
        if self.trials < 0 or self.successes < 0 or self.successes > self.trials:
            raise BanditError(
                f"an arm needs 0 <= successes <= trials (got {self.successes} of {self.trials})"
            )

    @property
    def alpha(self) -> float:
        return 1.0 + self.successes

    @property
    def beta(self) -> float:
        return 1.0 + self.trials - self.successes

    @property
    def mean(self) -> float:
        """The posterior mean rate."""
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class Verdict:
    """Whether an experiment has a winner: each arm's P(best), the leader and why (not)."""

    p_best: tuple[float, ...]
    leader: int
    winner: int | None
    reason: str


def _check(arms: Sequence[ArmStats]) -> None:
    if not arms:
        raise BanditError("an experiment needs at least one arm")


def choose_arm(
    arms: Sequence[ArmStats], rng: np.random.Generator, *, floor: float = DEFAULT_FLOOR
) -> int:
    """The index of the arm to send next: a Thompson draw, or uniform with the floor's chance."""
    _check(arms)
    if not 0 <= floor * len(arms) <= 1:
        raise BanditError(f"floor {floor} x {len(arms)} arms must lie between 0 and 1")
    if rng.random() < floor * len(arms):
        return int(rng.integers(len(arms)))
    alpha = np.array([a.alpha for a in arms])
    beta = np.array([a.beta for a in arms])
    return int(np.argmax(rng.beta(alpha, beta)))


def prob_best(
    arms: Sequence[ArmStats], rng: np.random.Generator, *, draws: int = MC_DRAWS
) -> tuple[float, ...]:
    """Each arm's probability of having the highest rate, by Monte Carlo from the posteriors."""
    _check(arms)
    alpha = np.array([a.alpha for a in arms])
    beta = np.array([a.beta for a in arms])
    samples = rng.beta(alpha, beta, size=(draws, len(arms)))
    wins = np.bincount(np.argmax(samples, axis=1), minlength=len(arms))
    return tuple(float(w) / draws for w in wins)


def judge(
    arms: Sequence[ArmStats],
    rng: np.random.Generator,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_trials: int = DEFAULT_MIN_TRIALS,
    draws: int = MC_DRAWS,
) -> Verdict:
    """A winner once some arm's P(best) reaches `threshold` and every arm had `min_trials`."""
    p = prob_best(arms, rng, draws=draws)
    leader = int(np.argmax(p))
    if len(arms) < 2:
        return Verdict(p, leader, None, "a single arm: nothing to compare")
    short = min(a.trials for a in arms)
    if short < min_trials:
        return Verdict(p, leader, None, f"every arm needs {min_trials} sends (fewest: {short})")
    if p[leader] < threshold:
        return Verdict(
            p, leader, None, f"the leader's P(best) {p[leader]:.2f} is below {threshold:.2f}"
        )
    return Verdict(p, leader, leader, f"P(best) {p[leader]:.3f} >= {threshold:.2f}")
