"""Gradient-boosted component: HistGradientBoosting on categories encoded as ordered target
statistics (conversion rates a row's own outcome never fed) and their frequencies."""

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
# Training rows seen through this many random orders (fewer on large tables, see _orders).
MAX_ORDERS = 4
ORDERED_ROWS = 80_000


def _one_thread() -> Any:
    # The trees are small: OpenMP start-up per tree costs more than it saves (about 6x slower
    # fits and 50x slower single-lead predictions with 2 threads on a shared 2-core box).
    return one_thread("openmp")


class OrderedBoosting(ClassifierMixin, BaseEstimator):
    """Boosted trees where each category becomes its conversion rate and its frequency.

    A category's rate measured on the rows the trees train on includes each row's own
    outcome, so the trees trust rare categories more than new leads will bear out. As in
    CatBoost's ordered target statistics, each training row instead gets the (prior-smoothed)
    rate of the rows before it in a random order; the trees see the training rows in several
    such orders (each copy weighted 1/k) so no row's encoding rests on one lucky order.
    New leads get the rate over all training rows. Both are plain numbers, so prediction
    stays a numeric pass (no per-call category encoder), which matters for one-lead latency.
    Each split looks at a random `max_features` share of the columns, which keeps one strong
    column from crowding out the rest. Columns in `ignored_mask` are left to other models.

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
        self.kept_columns_ = tree_columns(X, self.ignored_mask)
        kept = X[:, self.kept_columns_]
        categorical = as_mask(self.categorical_mask, X.shape[1])[self.kept_columns_]
        self.numeric_columns_ = np.flatnonzero(~categorical)
        self.category_columns_ = np.flatnonzero(categorical)
        prior = float(y.mean())
        sizes = [_table_size(kept[:, j]) for j in self.category_columns_]
        codes = [_codes(kept[:, j], n) for j, n in zip(self.category_columns_, sizes, strict=True)]
        self.rate_tables_ = [_rate_table(c, y, prior, n) for c, n in zip(codes, sizes, strict=True)]
        self.frequency_tables_ = [
            np.bincount(c, minlength=n) / len(y) for c, n in zip(codes, sizes, strict=True)
        ]
        self.monotonic_cst_ = (
            monotone_directions(kept, y, categorical)
            if self.monotone
            else np.zeros(len(self.kept_columns_), dtype=int)
        )
        # The trees' layout: numbers first, then each category's rate and frequency (free).
        layout_cst = np.concatenate(
            [
                self.monotonic_cst_[self.numeric_columns_],
                np.zeros(2 * len(codes), dtype=int),
            ]
        )
        orders = _orders(len(y))
        rng = np.random.default_rng(self.random_state)
        copies = []
        for _ in range(orders):
            order = rng.permutation(len(y))
            rates = [_ordered_rates(c, y, order, prior) for c in codes]
            copies.append(self._layout(kept, rates, codes))
        self.model_ = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            max_iter=self.max_iter,
            min_samples_leaf=20 * orders,
            l2_regularization=1.0,
            max_features=self.max_features,
            monotonic_cst=layout_cst,
            random_state=self.random_state,
        )
        with _one_thread():
            self.model_.fit(
                np.vstack(copies),
                np.tile(y, orders),
                sample_weight=np.full(orders * len(y), 1 / orders),
            )
        self.forest_ = _flatten(self.model_)
        return self

    def _layout(
        self, kept: np.ndarray, rates: list[np.ndarray], codes: list[np.ndarray]
    ) -> np.ndarray:
        frequencies = [table[c] for table, c in zip(self.frequency_tables_, codes, strict=True)]
        return np.column_stack([kept[:, self.numeric_columns_], *rates, *frequencies])

    def _encoded(self, X: np.ndarray) -> np.ndarray:
        kept = np.asarray(X, dtype="float64")[:, self.kept_columns_]
        codes = [
            _codes(kept[:, j], len(t))
            for j, t in zip(self.category_columns_, self.rate_tables_, strict=True)
        ]
        rates = [table[c] for table, c in zip(self.rate_tables_, codes, strict=True)]
        return self._layout(kept, rates, codes)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        encoded = self._encoded(X)
        if len(encoded) <= _SMALL_BATCH:
            p = 1.0 / (1.0 + np.exp(-self.forest_.raw(encoded)))
            return np.column_stack([1.0 - p, p])
        with _one_thread():
            result: np.ndarray = self.model_.predict_proba(encoded)
        return result


_SMALL_BATCH = 64


def tree_columns(X: np.ndarray, ignored_mask: Any) -> np.ndarray:
    """Indices of the columns trees may use: not ignored, and with some value in these rows
    (a column that fills in later gives the trees nothing)."""
    empty = np.isnan(X).all(axis=0)
    kept = np.flatnonzero(~as_mask(ignored_mask, X.shape[1]) & ~empty)
    if kept.size == 0:
        raise ScoringError("every column is ignored: nothing left for the trees")
    return kept


def as_mask(mask: Any, n_columns: int) -> np.ndarray:
    """A boolean column mask from a list of flags (None: no column)."""
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


def _orders(rows: int) -> int:
    """How many random orders the training rows are seen in: up to MAX_ORDERS, while the
    copies stay within ORDERED_ROWS rows (and at least two, so no single order decides)."""
    return max(2, min(MAX_ORDERS, ORDERED_ROWS // max(rows, 1)))


def _codes(column: np.ndarray, size: int) -> np.ndarray:
    """Category codes as slots of a table of `size`: a code seen in training is its own slot,
    any other shares the slot before last, missing is the last."""
    present = ~np.isnan(column)
    values = np.where(present, column, -1).astype(int)
    slots = np.where((values < 0) | (values > size - 3), size - 2, values)
    return np.where(present, slots, size - 1)


def _table_size(column: np.ndarray) -> int:
    return int(np.nanmax(column, initial=-1)) + 3


def _rate_table(codes: np.ndarray, y: np.ndarray, prior: float, size: int) -> np.ndarray:
    """Per slot: the conversion rate over all training rows, smoothed with one lead at
    `prior` (so a slot with no rows, like an unseen code, holds the prior)."""
    counts = np.bincount(codes, minlength=size)
    positives = np.bincount(codes, weights=y, minlength=size)
    rates: np.ndarray = (positives + prior) / (counts + 1.0)
    return rates


def _ordered_rates(codes: np.ndarray, y: np.ndarray, order: np.ndarray, prior: float) -> np.ndarray:
    """Each row's category rate over the rows before it in `order` (smoothed as _rate_table)."""
    in_order = codes[order]
    by_code = np.argsort(in_order, kind="stable")  # rows of a category stay in `order`
    grouped = in_order[by_code]
    outcomes = y[order][by_code].astype(float)
    position = np.arange(len(grouped))
    first = np.maximum.accumulate(np.where(np.r_[True, grouped[1:] != grouped[:-1]], position, 0))
    before = np.concatenate([[0.0], np.cumsum(outcomes)[:-1]])
    rates = np.empty(len(codes))
    rates[order[by_code]] = (before - before[first] + prior) / (position - first + 1.0)
    return rates
