"""The bandit simulation: seeded, and Thompson sampling loses fewer replies than the A/B test."""

from __future__ import annotations

import numpy as np

from benchmarks.bandit import ab_lost, run


def test_simulation_is_reproducible_and_thompson_loses_fewer_replies() -> None:
    first = run(sends=3000, runs=40, batch=100, seed=3)
    again = run(sends=3000, runs=40, batch=100, seed=3)
    first.pop("seconds"), again.pop("seconds")
    assert first == again
    assert first["thompson_lost_replies"] < first["ab_lost_replies"]
    assert 0 < first["lost_replies_reduction_vs_ab"] < 1


def test_ab_with_equal_variants_loses_nothing_and_with_a_known_gap_loses_the_test_half() -> None:
    rng = np.random.default_rng(0)
    same = np.full((5, 2), 0.03)
    assert np.allclose(ab_lost(same, 1000, 0.5, rng), 0)
    # A huge gap is always found: the loss is the worse arm's half of the test phase.
    gap = np.tile([0.0, 0.5], (5, 1))
    assert np.allclose(ab_lost(gap, 1000, 0.5, rng), 250 * 0.5)
