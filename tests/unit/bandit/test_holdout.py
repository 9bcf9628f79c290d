"""Holdout cohort by salted hash, Wilson intervals and the uplift's Newcombe interval."""

from __future__ import annotations

import pytest

from tools.bandit.holdout import in_holdout, points, uplift, verdict, wilson


def test_holdout_share_is_close_to_the_setting_and_deterministic() -> None:
    held = [lead for lead in range(1, 20_001) if in_holdout(lead, share=0.05, salt="s1")]
    assert 0.045 < len(held) / 20_000 < 0.055
    assert held == [lead for lead in range(1, 20_001) if in_holdout(lead, share=0.05, salt="s1")]


def test_salt_changes_who_is_held_out_and_a_larger_share_only_adds() -> None:
    a = {lead for lead in range(1, 5001) if in_holdout(lead, share=0.05, salt="a")}
    b = {lead for lead in range(1, 5001) if in_holdout(lead, share=0.05, salt="b")}
    assert a != b
    wider = {lead for lead in range(1, 5001) if in_holdout(lead, share=0.10, salt="a")}
    assert a <= wider
    assert not any(in_holdout(lead, share=0.0, salt="a") for lead in range(1, 1000))


def test_share_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        in_holdout(1, share=1.5, salt="x")


def test_wilson_matches_a_known_value() -> None:
    # 10 of 100 at 95 %: (0.0552, 0.1744) (Newcombe 1998, table I).
    low, high = wilson(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4)
    assert high == pytest.approx(0.1744, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_uplift_interval_matches_newcombe_example() -> None:
    # Newcombe 1998, example (56/70 vs 48/80): difference 0.2, hybrid interval 0.0524-0.3339.
    result = uplift(70, 56, 80, 48)
    assert result.uplift == pytest.approx(0.2)
    assert result.uplift_ci is not None
    assert result.uplift_ci[0] == pytest.approx(0.0524, abs=1e-3)
    assert result.uplift_ci[1] == pytest.approx(0.3339, abs=1e-3)
    assert result.significant


def test_no_holdout_leads_gives_no_uplift() -> None:
    result = uplift(100, 10, 0, 0)
    assert result.uplift is None and result.uplift_ci is None and not result.significant


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="holdout"):
        uplift(10, 1, 5, 6)


def test_the_verdict_waits_for_enough_leads_and_a_narrow_interval() -> None:
    # A big difference on tiny cohorts says nothing yet.
    small = uplift(40, 20, 40, 2)
    assert verdict(small)[0] == "not_enough_data"
    assert "40 holdout and 40 nurtured" in verdict(small)[1]
    # Enough leads, but an interval that spans zero and is wider than 10 points.
    wide = uplift(400, 40, 60, 5)
    assert wide.uplift_ci is not None and wide.uplift_ci[1] - wide.uplift_ci[0] > 0.10
    code, sentence = verdict(wide)
    assert code == "not_enough_data" and "too wide" in sentence
    # Narrow and spanning zero: no measurable uplift.
    flat = uplift(20_000, 2_000, 4_000, 400)
    assert verdict(flat) == ("no_clear_difference", verdict(flat)[1])
    assert "+0.0 points" in verdict(flat)[1]


def test_the_verdict_names_the_side_that_converts_better() -> None:
    ahead = uplift(2_000, 300, 500, 40)  # 15 % vs 8 %
    code, sentence = verdict(ahead)
    assert code == "nurture_ahead"
    assert ahead.uplift_ci is not None
    low, high = ahead.uplift_ci
    assert sentence == (
        f"Nurture lifts conversion by +7.0 points (95 % CI {low * 100:+.1f} to {high * 100:+.1f})."
    )
    behind = uplift(2_000, 100, 500, 60)  # 5 % vs 12 %
    assert verdict(behind)[0] == "holdout_ahead"
    assert verdict(uplift(2_000, 100, 0, 0), share=0.0)[0] == "no_holdout"
    assert points(-0.0345) == "-3.5 points"
