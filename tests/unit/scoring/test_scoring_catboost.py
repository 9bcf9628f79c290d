"""CatBoostTrees on the lead matrix, and the scorer's trees as the average of two models."""

from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tools.scoring.catboost_trees import CatBoostTrees
from tools.scoring.features import LeadFeatures
from tools.scoring.model import LeadScorer


def _matrix(frame: pd.DataFrame) -> tuple[LeadFeatures, np.ndarray, np.ndarray]:
    X = frame.drop(columns="converted")
    features = LeadFeatures().fit(X)
    return features, features.transform(X), (frame["converted"] == "yes").to_numpy(int)


def test_learns_categories_and_numbers_and_writes_no_files(
    leads_factory: Callable[..., pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    features, train, y = _matrix(leads_factory(800, seed=1))
    test = features.transform(leads_factory(800, seed=2).drop(columns="converted"))
    y_test = (leads_factory(800, seed=2)["converted"] == "yes").to_numpy(int)
    model = CatBoostTrees(categorical_mask=features.categorical_mask_, iterations=100)
    assert model.fit(train, y) is model
    p = model.predict_proba(test)
    assert p.shape == (800, 2) and np.allclose(p.sum(axis=1), 1.0)
    assert roc_auc_score(y_test, p[:, 1]) > 0.75
    # Without its categories (role carries much of the signal) it does clearly worse.
    numbers = CatBoostTrees(
        categorical_mask=features.categorical_mask_,
        ignored_mask=features.categorical_mask_,
        iterations=100,
    ).fit(train, y)
    assert (
        roc_auc_score(y_test, numbers.predict_proba(test)[:, 1])
        < roc_auc_score(y_test, p[:, 1]) - 0.02
    )
    assert list(tmp_path.iterdir()) == []  # no catboost_info/ left behind


def test_small_and_large_batches_agree_and_odd_codes_score(leads: pd.DataFrame) -> None:
    features, matrix, y = _matrix(leads)
    model = CatBoostTrees(categorical_mask=features.categorical_mask_, iterations=60).fit(matrix, y)
    whole = model.predict_proba(matrix)
    pieces = np.vstack([model.predict_proba(matrix[i : i + 10]) for i in range(0, 600, 10)])
    np.testing.assert_allclose(pieces, whole, rtol=0, atol=1e-12)
    odd = matrix[:3].copy()
    role = features.output_columns_.index("role")
    odd[0, role] = 999.0  # a code never seen in training
    odd[1, :] = np.nan  # nothing known
    assert np.isfinite(model.predict_proba(odd)).all()


def test_ignored_columns_do_not_move_the_prediction(leads: pd.DataFrame) -> None:
    features, matrix, y = _matrix(leads)
    column = features.output_columns_.index("time_on_site_s")
    ignored = np.zeros(matrix.shape[1], dtype=bool)
    ignored[column] = True
    model = CatBoostTrees(
        categorical_mask=features.categorical_mask_, ignored_mask=ignored, iterations=60
    ).fit(matrix, y)
    moved = matrix.copy()
    moved[:, column] = moved[:, column] * 10 + 5000
    np.testing.assert_array_equal(model.predict_proba(moved), model.predict_proba(matrix))


def test_monotone_trees_never_lower_the_score_as_a_rising_column_grows(leads: pd.DataFrame) -> None:
    features, matrix, y = _matrix(leads)
    column = features.output_columns_.index("time_on_site_s")
    grid = np.repeat(matrix[:50], 30, axis=0)
    grid[:, column] = np.tile(np.linspace(0, 3000, 30), 50)
    model = CatBoostTrees(
        categorical_mask=features.categorical_mask_, monotone=True, iterations=100
    ).fit(matrix, y)
    p = model.predict_proba(grid)[:, 1].reshape(50, 30)
    assert (np.diff(p, axis=1) >= -1e-12).all()
    assert (p[:, -1] > p[:, 0]).all()  # and it does rise


def test_saved_and_loaded_it_predicts_the_same(leads: pd.DataFrame, tmp_path: Path) -> None:
    features, matrix, y = _matrix(leads)
    model = CatBoostTrees(categorical_mask=features.categorical_mask_, iterations=60).fit(matrix, y)
    joblib.dump(model, tmp_path / "trees.joblib")
    loaded = joblib.load(tmp_path / "trees.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(matrix), model.predict_proba(matrix))


def test_scorer_trees_average_both_models(leads: pd.DataFrame) -> None:
    X = leads.drop(columns="converted")
    y = (leads["converted"] == "yes").to_numpy(int)
    scorer = LeadScorer(kind="gb", cv=2, max_iter=40).fit(X, y)
    assert scorer.gb_ is not None and scorer.catboost_ is not None
    assert scorer.catboost_.monotone is scorer.gb_.monotone is scorer.monotone_
    assert "catboost" in scorer.cv_auc_
    matrix = scorer.features_.transform(X)
    mean = 0.5 * (
        scorer.gb_.predict_proba(matrix)[:, 1] + scorer.catboost_.predict_proba(matrix)[:, 1]
    )
    np.testing.assert_allclose(scorer._raw_proba(matrix), mean)
    linear = LeadScorer(kind="linear", cv=2).fit(X, y)
    assert linear.gb_ is None and linear.catboost_ is None and "catboost" not in linear.cv_auc_
