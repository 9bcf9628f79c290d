"""The leakage guard flags planted leaks, ids and post-outcome names; `include` overrides."""

import numpy as np
import pandas as pd

from tools.scoring.data import binary_target
from tools.scoring.leakage import screen_columns, single_column_auc


def _flagged(leads: pd.DataFrame, **kwargs: object) -> dict[str, str]:
    y = binary_target(leads["converted"])
    found = screen_columns(leads.drop(columns="converted"), y, **kwargs)  # type: ignore[arg-type]
    return {f["column"]: f["reason"] for f in found}


def test_planted_leak_and_id_are_flagged(leads: pd.DataFrame) -> None:
    rng = np.random.default_rng(1)
    y = leads["converted"] == "yes"
    leads["crm_field_7"] = np.where(rng.random(len(leads)) < 0.97, y, ~y).astype(int)
    flagged = _flagged(leads)
    assert "single-column AUC" in flagged["crm_field_7"]
    assert "identifier" in flagged["lead_id"]
    assert "role" not in flagged and "visits" not in flagged


def test_post_outcome_names_and_values(leads: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    leads["Lead Status"] = rng.choice(["open", "working"], len(leads))
    leads["Last Activity"] = rng.choice(["Email Opened", "Page Visited"], len(leads))
    leads["Lead Quality"] = rng.choice(["High", "Low"], len(leads))
    leads["rep_note"] = rng.choice(["Closed by rep", "Lost to rival", "call back"], len(leads))
    flagged = _flagged(leads)
    assert {"Lead Status", "Last Activity", "Lead Quality", "rep_note"} <= set(flagged)
    assert "post-outcome" in flagged["Lead Quality"]


def test_include_overrides_the_guard(leads: pd.DataFrame) -> None:
    leads["Lead Quality"] = "High"
    assert "Lead Quality" not in _flagged(leads, include=["Lead Quality"])


def test_single_column_auc_ignores_row_order() -> None:
    # Row order correlates with the outcome; a constant-ish count column must not inherit it.
    y = np.r_[np.zeros(500, int), np.ones(500, int)]
    counts = pd.Series(np.tile([1, 1, 2, 3], 250))
    assert single_column_auc(counts, y) < 0.6
