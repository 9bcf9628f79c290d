"""Time-ordered model selection: forward windows, drifting columns, calibration that never flips."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tools.scoring.boosting import OrderedBoosting
from tools.scoring.errors import ModelVersionError
from tools.scoring.linear import HingeLogit
from tools.scoring.model import LeadScorer, _fit_sigmoid, _forward_windows
from tools.scoring.train import benchmark_frame, train_from_frame
from tools.scoring.versions import MANIFEST_FILE, load_model, save_model


def _drifting_leads(n: int = 1600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows oldest first; `rate` climbs with time and raises conversion all along."""
    rng = np.random.default_rng(seed)
    rate = 4.0 * np.arange(n) / n + rng.normal(0, 0.6, n)
    role = rng.choice(["VP", "Manager", "Student"], n)
    visits = rng.poisson(3, n)
    logit = -2.5 + 1.2 * rate + 0.8 * (role == "VP") - 0.8 * (role == "Student") + 0.15 * visits
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"rate": rate, "role": role, "visits": visits}), y


def test_forward_windows_score_only_rows_after_their_training_rows() -> None:
    y = np.tile([0, 1], 50)
    windows = _forward_windows(y, 3)
    assert [(w[0], w[-1]) for w in windows] == [(40, 59), (60, 79), (80, 99)]
    # Windows without both outcomes (or after rows without them) are skipped.
    rare = np.r_[1, 1, np.zeros(88, int), np.ones(10, int)]
    assert [w[0] for w in _forward_windows(rare, 3)] == [80]
    assert _forward_windows(np.r_[np.zeros(90, int), np.ones(10, int)], 3) == []


def test_drifting_column_is_kept_from_the_trees_and_straight_in_the_linear_model() -> None:
    X, y = _drifting_leads()
    scorer = LeadScorer(kind="blend", time_ordered=True, max_iter=60).fit(X, y)
    assert scorer.drifting_ == ["rate"]
    assert scorer.validation_.startswith("time-ordered")
    rate = scorer.features_.output_columns_.index("rate")
    assert scorer.gb_ is not None and rate not in scorer.gb_.kept_columns_
    assert scorer.linear_ is not None
    linear_terms = scorer.linear_.numeric_coef_[0]
    assert len(linear_terms) == 1  # one slope, no knots
    assert 0 <= scorer.score_lead({"rate": 9.0, "role": "VP"}) <= 100


def test_time_ordered_selection_ranks_a_new_period_better_than_trees() -> None:
    timed: list[float] = []
    trees: list[float] = []
    for seed in (1, 2, 3):
        X, y = _drifting_leads(seed=seed)
        cut = 1100  # the last rows carry rates above anything seen in training
        past, future = X.iloc[:cut], X.iloc[cut:]
        for scores, scorer in (
            (timed, LeadScorer(time_ordered=True, max_iter=60)),
            (trees, LeadScorer(kind="gb", max_iter=60)),
        ):
            p = scorer.fit(past, y[:cut]).predict_proba(future)[:, 1]
            scores.append(roc_auc_score(y[cut:], p))
    assert np.mean(timed) > np.mean(trees) + 0.02


def test_shuffled_rows_are_not_screened_for_drift() -> None:
    X, y = _drifting_leads()
    scorer = LeadScorer(kind="linear", max_iter=60).fit(X, y)
    assert scorer.drifting_ == [] and scorer.validation_ == "stratified 3-fold CV"


def test_calibration_keeps_the_ranking_when_held_out_rows_disagree() -> None:
    raw = np.linspace(0.05, 0.95, 200)
    y = (raw < 0.3).astype(int)  # held-out rows ranked upside down
    slope, intercept = _fit_sigmoid(raw, y)
    assert slope == 1.0
    logit = np.log(raw / (1 - raw)) + intercept
    assert (1 / (1 + np.exp(-logit))).mean() == pytest.approx(y.mean(), abs=1e-6)
    slope, _ = _fit_sigmoid(raw, (raw > 0.5).astype(int))
    assert slope > 1.0


def test_components_train_on_a_column_that_is_empty_so_far() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), np.full(200, np.nan)])
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    later = np.column_stack([rng.normal(size=50), rng.normal(size=50)])
    for model in (HingeLogit(), OrderedBoosting(max_iter=20)):
        p = model.fit(X, y).predict_proba(later)[:, 1]
        assert np.isfinite(p).all()
        assert roc_auc_score((later[:, 0] > 0).astype(int), p) > 0.8


def test_train_with_a_time_column_fits_oldest_first(tmp_path: Path) -> None:
    X, y = _drifting_leads(n=900)
    frame = X.assign(converted=y, created=pd.date_range("2024-01-01", periods=len(y), freq="h"))
    shuffled = frame.sample(frac=1.0, random_state=0)
    scorer, report = train_from_frame(shuffled, "converted", time_column="created")
    assert scorer.time_ordered and scorer.drifting_ == ["rate"]
    assert report.metrics["drifting"] == ["rate"]
    assert "time-ordered" in report.metrics["split"]


def test_time_ordered_falls_back_to_cv_without_usable_windows() -> None:
    X, _ = _drifting_leads(n=300)
    y = np.r_[np.zeros(200, int), np.ones(100, int)]  # no conversion before the last third
    scorer = LeadScorer(kind="linear", time_ordered=True).fit(X, y)
    assert scorer.validation_ == "stratified 3-fold CV"


def test_a_model_saved_before_time_ordered_selection_asks_for_retraining(
    tmp_path: Path,
) -> None:
    X, y = _drifting_leads(n=300)
    save_model(LeadScorer(kind="linear").fit(X, y), tmp_path, training_data_sha256="cd" * 32)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["format_version"] = 1
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelVersionError, match="nurture score retrain"):
        load_model(tmp_path)


def test_benchmark_with_a_time_column_reports_how_the_model_was_picked() -> None:
    X, y = _drifting_leads(n=900)
    frame = X.assign(converted=y, created=pd.date_range("2024-01-01", periods=len(y), freq="h"))
    result = benchmark_frame(frame, "converted", time_column="created")
    assert result["model"]["validation"].startswith("time-ordered")
    assert result["model"]["drifting"] == ["rate"]
    assert result["model"]["rows_scored"] == 180
