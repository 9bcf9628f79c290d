"""Metrics and splits of the evaluation harness."""

import numpy as np
import pandas as pd
import pytest

from tools.scoring.evaluate import evaluate, lift_metrics
from tools.scoring.model import LeadScorer


def test_lift_metrics_on_known_ranking() -> None:
    y = np.array([1] * 10 + [0] * 90)
    perfect = lift_metrics(y, np.linspace(1, 0, 100))
    assert perfect["auc"] == 1.0
    assert perfect["top_decile_lift"] == pytest.approx(10.0)
    assert perfect["top_decile_vs_rest"] == float("inf")
    y2 = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 10)
    p2 = np.where(np.arange(100) < 10, 0.9, 0.1)  # top 10 rows hold 2 positives
    metrics = lift_metrics(y2, p2)
    assert metrics["top_decile_lift"] == pytest.approx(0.2 / 0.2)
    assert metrics["top_decile_vs_rest"] == pytest.approx(0.2 / (18 / 90))


def test_time_holdout_scores_latest_rows(leads: pd.DataFrame) -> None:
    X = leads.drop(columns=["converted", "lead_id", "notes"])
    y = (leads["converted"] == "yes").to_numpy(int)
    order = np.arange(len(y))[::-1]
    result = evaluate({"m": lambda: LeadScorer(kind="linear", cv=2)}, X, y, order=order)
    assert result["m"]["rows_scored"] == 120
    assert "time-ordered" in result["m"]["split"]
