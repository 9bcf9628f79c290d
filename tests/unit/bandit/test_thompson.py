"""Thompson sampling: posteriors, the exploration floor, P(best) and the winner rule."""

from __future__ import annotations

import numpy as np
import pytest

from tools.bandit.thompson import ArmStats, BanditError, choose_arm, judge, prob_best


def test_posterior_is_beta_of_successes_and_failures() -> None:
    arm = ArmStats(successes=3, trials=10)
    assert (arm.alpha, arm.beta) == (4.0, 8.0)
    assert arm.mean == pytest.approx(4 / 12)


@pytest.mark.parametrize("successes,trials", [(-1, 3), (4, 3), (0, -1)])
def test_impossible_counts_are_refused(successes: int, trials: int) -> None:
    with pytest.raises(BanditError, match="successes <= trials"):
        ArmStats(successes, trials)


def test_choose_prefers_the_clearly_better_arm() -> None:
    rng = np.random.default_rng(1)
    arms = [ArmStats(5, 1000), ArmStats(60, 1000)]
    picks = [choose_arm(arms, rng, floor=0.0) for _ in range(500)]
    assert picks.count(1) == 500


def test_floor_keeps_every_arm_explored() -> None:
    rng = np.random.default_rng(2)
    arms = [ArmStats(5, 1000), ArmStats(60, 1000), ArmStats(61, 1000)]
    picks = np.array([choose_arm(arms, rng, floor=0.05) for _ in range(6000)])
    share_worst = float((picks == 0).mean())
    # 15 % of picks are uniform, so the hopeless arm still gets about 5 %.
    assert 0.035 < share_worst < 0.065


def test_same_seed_same_choices() -> None:
    arms = [ArmStats(3, 50), ArmStats(4, 50), ArmStats(2, 40)]
    first = [choose_arm(arms, np.random.default_rng(9)) for _ in range(3)]
    again = [choose_arm(arms, np.random.default_rng(9)) for _ in range(3)]
    assert first == again


def test_floor_too_large_for_the_arms_is_refused() -> None:
    with pytest.raises(BanditError, match="floor"):
        choose_arm([ArmStats(0, 0)] * 4, np.random.default_rng(0), floor=0.3)
    with pytest.raises(BanditError, match="at least one arm"):
        choose_arm([], np.random.default_rng(0))


def test_prob_best_sums_to_one_and_matches_the_closed_form_for_two_arms() -> None:
    rng = np.random.default_rng(3)
    arms = [ArmStats(10, 100), ArmStats(15, 100)]
    p = prob_best(arms, rng, draws=200_000)
    assert sum(p) == pytest.approx(1.0)
    # Exact P(B > A) for Beta posteriors (Evan Miller's sum).
    from math import exp, lgamma, log

    a1, b1, a2, b2 = arms[1].alpha, arms[1].beta, arms[0].alpha, arms[0].beta

    def lbeta(x: float, y: float) -> float:
        return lgamma(x) + lgamma(y) - lgamma(x + y)

    exact = sum(
        exp(lbeta(a2 + i, b1 + b2) - log(b1 + i) - lbeta(1 + i, b1) - lbeta(a2, b2))
        for i in range(int(a1))
    )
    assert p[1] == pytest.approx(exact, abs=0.005)


def test_equal_arms_have_equal_chances() -> None:
    p = prob_best([ArmStats(20, 500)] * 3, np.random.default_rng(4), draws=90_000)
    assert max(p) - min(p) < 0.02


def test_no_winner_before_the_minimum_sample_even_when_clear() -> None:
    rng = np.random.default_rng(5)
    verdict = judge([ArmStats(0, 150), ArmStats(40, 150)], rng, min_trials=200)
    assert verdict.winner is None and verdict.leader == 1
    assert "200 sends" in verdict.reason


def test_winner_when_p_best_reaches_threshold_after_minimum() -> None:
    rng = np.random.default_rng(6)
    clear = judge([ArmStats(10, 1000), ArmStats(40, 1000)], rng, min_trials=200)
    assert clear.winner == 1 and clear.p_best[1] >= 0.95
    close = judge([ArmStats(30, 1000), ArmStats(32, 1000)], rng, min_trials=200)
    assert close.winner is None and "below" in close.reason


def test_single_arm_never_wins() -> None:
    verdict = judge([ArmStats(50, 1000)], np.random.default_rng(7), min_trials=1)
    assert verdict.winner is None
