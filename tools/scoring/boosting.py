"""Gradient-boosted component: HistGradientBoosting on categories ordered by conversion rate."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted

from tools.scoring.errors import ScoringError
from tools.scoring.threads import one_thread

# A numeric column is a candidate for a monotone constraint when its rank correlation with
# conversion is this many standard errors (1 / sqrt(n - 1)) away from zero.
MONOTONE_Z = 2.0


def _one_thread() -> Any:
    # The trees are small: OpenMP start-up per tree costs more than it saves (about 6x slower
    # fits and 50x slower single-lead predictions with 2 threads on a shared 2-core box).
    return one_thread("openmp")


class OrderedBoosting(ClassifierMixin, BaseEstimator):
    """Boosted trees where each categorical code is replaced by its rank of conversion rate.

    Sorting categories by their (smoothed) training conversion rate lets ordinary threshold
    splits group them as a categorical split would, and keeps prediction a plain numeric
    pass (no per-call category encoder), which matters for one-lead latency. Each split
    looks at a random `max_features` share of the columns, which keeps one strong column
    from crowding out the rest. Columns in `ignored_mask` are left to other models.

    With `monotone=True`, each numeric column with a clear direction on the training rows
    (see `monotone_directions`) may only raise the score one way, e.g. more time on the site
    never lowers it, in every branch of every tree. That bias trades the trees' wiggles in
    thin regions for a shape that holds; whether it pays is for held-out rows to say.
    """

    def __init__(
        self,
        categorical_mask: Any = None,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        max_iter: int = 200,
        max_features: float = 1.0,
        ignored_mask: Any = None,
        monotone: bool = False,
        random_state: int = 0,
    ) -> None:
        self.categorical_mask = categorical_mask
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_iter = max_iter
        self.max_features = max_features
        self.ignored_mask = ignored_mask
        self.monotone = monotone
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> OrderedBoosting:
        X = np.asarray(X, dtype="float64")
        y = np.asarray(y)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        mask = _as_mask(self.categorical_mask, X.shape[1])
        # A column with no value in these rows (it fills in later) gives the trees nothing.
        empty = np.isnan(X).all(axis=0)
        self.kept_columns_ = np.flatnonzero(~_as_mask(self.ignored_mask, X.shape[1]) & ~empty)
        if self.kept_columns_.size == 0:
            raise ScoringError("every column is ignored: nothing left for the trees")
        # Keyed by position among the kept columns, the layout the trees see.
        self.rank_tables_ = {
            at: _rank_table(X[:, j], y)
            for at, j in enumerate(self.kept_columns_.tolist())
            if mask[j]
        }
        kept = X[:, self.kept_columns_]
        self.monotonic_cst_ = (
            monotone_directions(kept, y, mask[self.kept_columns_])
            if self.monotone
            else np.zeros(len(self.kept_columns_), dtype=int)
        )
        self.model_ = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            max_iter=self.max_iter,
            min_samples_leaf=20,
            l2_regularization=1.0,
            max_features=self.max_features,
            monotonic_cst=self.monotonic_cst_,
            random_state=self.random_state,
        )
        with _one_thread():
            self.model_.fit(self._ordered(X), y)
        self.forest_ = _flatten(self.model_)
        return self

    def _ordered(self, X: np.ndarray) -> np.ndarray:
        out = np.asarray(X, dtype="float64")[:, self.kept_columns_]  # a copy: safe to write
        for j, table in self.rank_tables_.items():
            codes = out[:, j]
            known = ~np.isnan(codes)
            idx = np.clip(codes[known].astype(int), 0, len(table) - 1)  # unseen -> last
            out[known, j] = table[idx]
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        ordered = self._ordered(np.asarray(X, "float64"))
        if len(ordered) <= _SMALL_BATCH:
            p = 1.0 / (1.0 + np.exp(-self.forest_.raw(ordered)))
            return np.column_stack([1.0 - p, p])
        with _one_thread():
            result: np.ndarray = self.model_.predict_proba(ordered)
        return result


_SMALL_BATCH = 64


def _as_mask(mask: Any, n_columns: int) -> np.ndarray:
    if mask is None:
        return np.zeros(n_columns, dtype=bool)
    return np.asarray(mask, dtype=bool)


class _Forest:
    """All trees as flat node arrays, walked level by level for every tree at once.

    sklearn's predictor makes one call per tree (200 calls of fixed overhead); for a handful
    of leads a vectorised walk over all trees is ~10x faster. Equality with sklearn's own
    prediction is checked in the tests, so a change of internals shows up there.
    """

    def __init__(self, nodes: np.ndarray, roots: np.ndarray, baseline: float) -> None:
        self.feature = nodes["feature_idx"].astype(np.intp)
        self.threshold = nodes["num_threshold"].astype("float64")
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.left = nodes["left"].astype(np.intp)
        self.right = nodes["right"].astype(np.intp)
        self.leaf = nodes["is_leaf"].astype(bool)
        self.value = nodes["value"].astype("float64")
        self.roots = roots
        self.baseline = baseline

    def raw(self, X: np.ndarray) -> np.ndarray:
        rows = np.arange(len(X))[:, None]
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        while True:
            inner = ~self.leaf[node]
            if not inner.any():
                break
            x = X[rows, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        total: np.ndarray = self.value[node].sum(axis=1) + self.baseline
        return total


def _flatten(model: HistGradientBoostingClassifier) -> _Forest:
    trees = [predictors[0].nodes for predictors in model._predictors]
    offsets = np.cumsum([0] + [len(t) for t in trees[:-1]])
    nodes = np.concatenate(trees)
    # Child indices are per tree; shift them into the flat array.
    shift = np.repeat(offsets, [len(t) for t in trees])
    nodes = nodes.copy()
    nodes["left"] = nodes["left"] + shift
    nodes["right"] = nodes["right"] + shift
    return _Forest(
        nodes, np.asarray(offsets, dtype=np.intp), float(np.ravel(model._baseline_prediction)[0])
    )


def monotone_directions(X: np.ndarray, y: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """Per column: +1 or -1 where a numeric column's rank correlation with `y` is clear (see
    MONOTONE_Z), 0 for categories, yes/no flags and numbers without a clear direction."""
    directions = np.zeros(X.shape[1], dtype=int)
    for j in np.flatnonzero(~np.asarray(categorical, dtype=bool)):
        present = ~np.isnan(X[:, j])
        if len(np.unique(X[present, j])) <= 2 or len(np.unique(y[present])) < 2:
            continue
        rho = float(spearmanr(X[present, j], y[present]).statistic)
        if abs(rho) * np.sqrt(present.sum() - 1) >= MONOTONE_Z:
            directions[j] = 1 if rho > 0 else -1
    return directions


def _rank_table(codes: np.ndarray, y: np.ndarray) -> np.ndarray:
    present = ~np.isnan(codes)
    size = int(np.nanmax(codes)) + 1 if present.any() else 1
    idx = codes[present].astype(int)
    counts = np.bincount(idx, minlength=size).astype(float)
    positives = np.bincount(idx, weights=y[present], minlength=size)
    prior = float(y.mean())
    # Shrinks rare categories towards the overall rate so one lucky lead cannot rank first.
    rate = (positives + 20 * prior) / (counts + 20)
    ranks = np.empty(size)
    ranks[np.argsort(rate, kind="stable")] = np.arange(size)
    # Last entry: where a code never seen in training ranks (at the overall rate).
    return np.append(ranks, float(np.searchsorted(np.sort(rate), prior)))
