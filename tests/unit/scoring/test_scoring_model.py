"""LeadScorer follows estimator conventions, scores 0-100 fast and handles odd inputs."""

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from tools.scoring.boosting import OrderedBoosting, _ordered_rates, monotone_directions
from tools.scoring.errors import ScoringError
from tools.scoring.features import LeadFeatures
from tools.scoring.model import (
    BLEND_MARGIN,
    LINEAR_PREFERENCE,
    LeadScorer,
    _choose,
    batch_deciles,
)


def _xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    return frame.drop(columns="converted"), (frame["converted"] == "yes").to_numpy(int)


def test_estimator_conventions(leads: pd.DataFrame) -> None:
    scorer = LeadScorer(kind="linear", cv=2, C=0.5)
    assert scorer.get_params()["C"] == 0.5
    assert not [k for k in vars(scorer) if k.endswith("_")]
    copy = clone(scorer)
    assert copy.get_params() == scorer.get_params() and copy is not scorer
    X, y = _xy(leads)
    assert scorer.fit(X, y) is scorer
    for attr in ("features_", "kind_", "calibration_", "classes_", "n_features_in_",
                 "decile_edges_"):
        assert hasattr(scorer, attr)
    assert not hasattr(copy, "kind_")


@pytest.mark.parametrize("kind", ["linear", "gb", "blend", "auto"])
def test_learns_the_signal_on_held_out_leads(
    kind: str, leads_factory: Callable[..., pd.DataFrame]
) -> None:
    X, y = _xy(leads_factory(800, seed=1))
    X_new, y_new = _xy(leads_factory(800, seed=2))
    scorer = LeadScorer(kind=kind, cv=3, max_iter=60).fit(X, y)
    p = scorer.predict_proba(X_new)[:, 1]
    assert roc_auc_score(y_new, p) > 0.75
    assert abs(p.mean() - y_new.mean()) < 0.08  # calibrated on average
    assert scorer.kind_ in {"linear", "gb", "blend"}


def test_scores_deciles_and_single_lead(leads: pd.DataFrame) -> None:
    X, y = _xy(leads)
    scorer = LeadScorer(cv=2, max_iter=40).fit(X, y)
    scores = scorer.score_leads(X)
    assert scores.dtype.kind == "i" and scores.min() >= 0 and scores.max() <= 100
    deciles = scorer.deciles(X)
    assert set(np.unique(deciles)) <= set(range(1, 11))
    assert y[deciles == 1].mean() > y[deciles == 10].mean()
    lead = X.iloc[0].to_dict()
    assert scorer.score_lead(lead) == scores[0]
    started = time.perf_counter()
    for _ in range(20):
        scorer.score_lead(lead)
    assert (time.perf_counter() - started) / 20 < 0.02


def test_unseen_values_missing_fields_and_all_nan(leads: pd.DataFrame) -> None:
    X, y = _xy(leads)
    X["blank"] = np.nan
    scorer = LeadScorer(kind="linear", cv=2).fit(X, y)
    assert "blank" not in scorer.features_.kinds_
    odd = {"role": "Chief Astronaut", "country": "Atlantis", "created_at": "not a date"}
    assert 0 <= scorer.score_lead(odd) <= 100
    assert 0 <= scorer.score_lead({}) <= 100


def test_one_class_and_bad_kind(leads: pd.DataFrame) -> None:
    X, _ = _xy(leads)
    with pytest.raises(ScoringError, match="one class"):
        LeadScorer().fit(X, np.zeros(len(X), int))
    with pytest.raises(ScoringError, match="kind must be"):
        LeadScorer(kind="forest").fit(X, np.r_[np.zeros(300, int), np.ones(300, int)])


def test_batch_deciles() -> None:
    deciles = batch_deciles(np.arange(100))
    assert deciles[99] == 1 and deciles[0] == 10
    assert np.bincount(deciles)[1:].tolist() == [10] * 10


def test_small_batch_tree_walk_matches_sklearn(leads: pd.DataFrame) -> None:
    X, y = _xy(leads)
    scorer = LeadScorer(kind="gb", cv=2, max_iter=60).fit(X, y)
    matrix = scorer.features_.transform(X)
    assert scorer.gb_ is not None
    reference = scorer.gb_.predict_proba(matrix)  # > 64 rows: sklearn's own predictor
    walked = np.vstack([scorer.gb_.predict_proba(matrix[i: i + 10])
                        for i in range(0, len(matrix), 10)])
    np.testing.assert_allclose(walked, reference, rtol=0, atol=1e-12)


def test_monotone_directions_only_for_numbers_with_a_clear_trend() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    y = (rng.random(n) < 0.4).astype(int)
    X = np.column_stack([
        y * 2.0 + rng.normal(size=n),  # rises with conversion
        -y * 2.0 + rng.normal(size=n),  # falls
        rng.normal(size=n),  # no trend
        y.astype(float),  # a yes/no flag: nothing to constrain
        y.astype(float) + rng.integers(0, 3, n),  # categorical codes
    ])
    X[:100, 0] = np.nan  # missing values are left out of the correlation
    categorical = np.array([False, False, False, False, True])
    assert monotone_directions(X, y, categorical).tolist() == [1, -1, 0, 0, 0]


def test_monotone_trees_never_lower_the_score_as_a_rising_column_grows(
    leads: pd.DataFrame,
) -> None:
    X, y = _xy(leads)
    features = LeadFeatures().fit(X)
    matrix = features.transform(X)
    column = features.output_columns_.index("time_on_site_s")
    model = OrderedBoosting(
        categorical_mask=features.categorical_mask_, max_iter=60, monotone=True
    ).fit(matrix, y)
    assert model.monotonic_cst_[column] == 1
    grid = np.repeat(matrix[:50], 30, axis=0)
    grid[:, column] = np.tile(np.linspace(0, 3000, 30), 50)
    p = model.predict_proba(grid)[:, 1].reshape(50, 30)
    assert (np.diff(p, axis=1) >= -1e-12).all()


def test_scorer_tries_monotone_trees_and_keeps_the_better(leads: pd.DataFrame) -> None:
    X, y = _xy(leads)
    scorer = LeadScorer(cv=2, max_iter=60).fit(X, y)
    assert {"ordered_trees", "ordered_trees_monotone"} <= set(scorer.cv_auc_)
    better = scorer.cv_auc_["ordered_trees_monotone"] > scorer.cv_auc_["ordered_trees"]
    assert scorer.monotone_ is better
    if scorer.gb_ is not None:
        assert scorer.gb_.monotone is better
    linear = LeadScorer(kind="linear", cv=2).fit(X, y)
    assert "ordered_trees_monotone" not in linear.cv_auc_ and linear.monotone_ is False


def test_ordered_rates_never_read_a_leads_own_outcome() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 6, 400)
    y = rng.integers(0, 2, 400).astype(float)
    order = rng.permutation(400)
    rates = _ordered_rates(codes, y, order, prior=0.4)
    position = np.empty(400, dtype=int)
    position[order] = np.arange(400)
    for i in range(400):
        before = (codes == codes[i]) & (position < position[i])
        assert rates[i] == pytest.approx((y[before].sum() + 0.4) / (before.sum() + 1))


def test_trees_do_not_trust_categories_seen_a_few_times() -> None:
    # Only x carries signal; "code" has 1,500 levels of about two leads each, so each level's
    # rate on the training rows is noise that looks strong when it counts the lead itself.
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    X = np.column_stack([x, rng.integers(0, 1500, n).astype(float)])
    train, test = slice(0, 3000), slice(3000, None)
    both = OrderedBoosting(categorical_mask=[False, True], max_iter=100).fit(X[train], y[train])
    x_only = OrderedBoosting(max_iter=100).fit(X[train, :1], y[train])
    auc_both = roc_auc_score(y[test], both.predict_proba(X[test])[:, 1])
    auc_x = roc_auc_score(y[test], x_only.predict_proba(X[test, :1])[:, 1])
    assert auc_both > auc_x - 0.01


def test_a_blend_must_beat_the_better_single_model_by_a_margin() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.4).astype(int)
    latent = y + rng.normal(scale=1.0, size=len(y))
    rows = [np.arange(len(y))]
    seen = set()
    for noise in np.linspace(0.02, 1.5, 40):
        linear = 1 / (1 + np.exp(-(latent + rng.normal(scale=noise, size=len(y)))))
        trees = 1 / (1 + np.exp(-(latent + rng.normal(scale=0.3, size=len(y)))))
        held = {"linear": linear, "gb": trees}
        kind, weight, scores = _choose("auto", held, y, rows)
        single = max(scores["linear"], scores["gb"])
        if scores["linear"] >= scores["gb"] - LINEAR_PREFERENCE:
            continue  # the linear model wins on its own preference
        if scores["blend"] >= single + BLEND_MARGIN:
            assert (kind, 0 < weight < 1) == ("blend", True)
            seen.add("clear gain")
        else:
            assert (kind, weight) == ("gb", 0.0)
            seen.add("small gain" if scores["blend"] > single else "no gain")
    assert {"clear gain", "small gain"} <= seen
