"""Linear component: logistic regression on hinge (piecewise-linear) numeric terms and one-hot
categories, scored with plain numpy so one lead takes microseconds and a million need no
dense one-hot matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from tools.scoring.threads import one_thread


class HingeLogit(ClassifierMixin, BaseEstimator):
    """Logistic regression where each numeric column becomes x plus max(0, x - knot) terms.

    Counts and durations are log1p-transformed when skewed; missing numbers take the median
    plus a "was missing" term; categorical codes (from `LeadFeatures`) are one-hot with
    missing as its own level and codes unseen in training contributing nothing. Columns in
    `straight_mask` get no knots: a single slope, which carries on sensibly past the values
    seen in training (knots fitted on a drifting column bend the wrong way in new periods).
    """

    def __init__(
        self,
        categorical_mask: Any = None,
        C: float = 0.3,
        n_knots: int = 5,
        straight_mask: Any = None,
    ) -> None:
        self.categorical_mask = categorical_mask
        self.C = C
        self.n_knots = n_knots
        self.straight_mask = straight_mask

    def fit(self, X: np.ndarray, y: np.ndarray) -> HingeLogit:
        X = np.asarray(X, dtype="float64")
        mask = self._mask(X.shape[1])
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        straight = _as_mask(self.straight_mask, X.shape[1])
        self.numeric_ = [
            self._fit_numeric(X[:, j], 0 if straight[j] else self.n_knots)
            for j in np.flatnonzero(~mask)
        ]
        self.levels_ = [self._fit_levels(X[:, j]) for j in np.flatnonzero(mask)]
        design = self._design(X)
        # Newton steps on a design of a few hundred columns converge in a handful of
        # iterations, where lbfgs needs about a hundred (3x the fit time).
        model = LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=200)
        # One BLAS thread: each Newton step's Hessian is a few-hundred-column product, and two
        # threads that wait on each other on a busy 2-core box made fits 5-8x slower.
        with one_thread("blas"):
            model.fit(design, y)
        self._split_coefficients(model.coef_[0])
        self.intercept_ = float(model.intercept_[0])
        return self

    def _mask(self, n_columns: int) -> np.ndarray:
        return _as_mask(self.categorical_mask, n_columns)

    def _fit_numeric(self, column: np.ndarray, n_knots: int) -> dict[str, Any]:
        present = column[~np.isnan(column)]
        log = bool(present.size and present.min() >= 0 and _skew(present) > 1.0)
        values = np.log1p(present) if log else present
        median = float(np.median(values)) if values.size else 0.0
        # A column empty in this training part (it fills in later) still gets a finite scale.
        scale = (float(values.std()) if values.size else 0.0) or 1.0
        knots = (
            np.unique(np.quantile(values, np.linspace(0, 1, n_knots + 2)[1:-1]))
            if values.size
            else np.zeros(0)
        )
        return {
            "log": log,
            "median": median,
            "mean": float(values.mean()) if values.size else 0.0,
            "scale": scale,
            "knots": (knots - median) / scale,
            "missing": bool(np.isnan(column).any()),
        }

    @staticmethod
    def _fit_levels(column: np.ndarray) -> np.ndarray:
        # Lookup from code + 1 (0 = missing) to a one-hot position; -1 = not seen in training.
        codes = np.unique(np.where(np.isnan(column), -1.0, column)).astype(int)
        table = np.full(codes.max() + 2, -1, dtype=int)
        table[codes + 1] = np.arange(len(codes))
        return table

    def _numeric_terms(self, column: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
        missing = np.isnan(column)
        values = np.log1p(np.clip(column, 0, None)) if spec["log"] else column
        values = np.where(missing, spec["median"], values)
        z = (values - spec["median"]) / spec["scale"]
        terms = [z, *(np.maximum(z - k, 0.0) for k in spec["knots"])]
        if spec["missing"]:
            terms.append(missing.astype("float64"))
        return np.column_stack(terms)

    def _design(self, X: np.ndarray) -> np.ndarray:
        mask = self._mask(X.shape[1])
        blocks = [
            self._numeric_terms(X[:, j], s)
            for j, s in zip(np.flatnonzero(~mask), self.numeric_, strict=True)
        ]
        for j, levels in zip(np.flatnonzero(mask), self.levels_, strict=True):
            onehot = np.zeros((len(X), int(levels.max()) + 1))
            idx = self._level_index(X[:, j], levels)
            known = idx >= 0
            onehot[np.flatnonzero(known), idx[known]] = 1.0
            blocks.append(onehot)
        return np.hstack(blocks) if blocks else np.zeros((len(X), 0))

    @staticmethod
    def _level_index(column: np.ndarray, levels: np.ndarray) -> np.ndarray:
        slot = np.where(np.isnan(column), 0, column + 1).astype(int)
        inside = (slot >= 0) & (slot < len(levels))
        return np.where(inside, levels[np.clip(slot, 0, len(levels) - 1)], -1)

    def _split_coefficients(self, coef: np.ndarray) -> None:
        self.numeric_coef_: list[np.ndarray] = []
        at = 0
        for spec in self.numeric_:
            width = 1 + len(spec["knots"]) + int(spec["missing"])
            self.numeric_coef_.append(coef[at : at + width])
            at += width
        # Index 0 of each table is "unseen code": it adds nothing to the logit.
        self.level_coef_: list[np.ndarray] = []
        for levels in self.levels_:
            width = int(levels.max()) + 1
            self.level_coef_.append(np.concatenate([[0.0], coef[at : at + width]]))
            at += width

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "intercept_")
        X = np.asarray(X, dtype="float64")
        mask = self._mask(X.shape[1])
        logit = np.full(len(X), self.intercept_)
        for j, spec, w in zip(
            np.flatnonzero(~mask), self.numeric_, self.numeric_coef_, strict=True
        ):
            logit += self._numeric_terms(X[:, j], spec) @ w
        for j, levels, table in zip(
            np.flatnonzero(mask), self.levels_, self.level_coef_, strict=True
        ):
            logit += table[self._level_index(X[:, j], levels) + 1]
        return logit

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])


def _as_mask(mask: Any, n_columns: int) -> np.ndarray:
    if mask is None:
        return np.zeros(n_columns, dtype=bool)
    return np.asarray(mask, dtype=bool)


def _skew(values: np.ndarray) -> float:
    std = values.std()
    return 0.0 if std == 0 else float(np.mean(((values - values.mean()) / std) ** 3))
