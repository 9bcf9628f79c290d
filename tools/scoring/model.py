"""LeadScorer: a calibrated scikit-learn classifier that turns lead records into 0-100 scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from tools.scoring.boosting import OrderedBoosting
from tools.scoring.data import binary_target
from tools.scoring.errors import ScoringError
from tools.scoring.features import LeadFeatures
from tools.scoring.linear import HingeLogit

KINDS = ("auto", "linear", "gb", "blend")
BLEND_WEIGHTS = (0.25, 0.5, 0.75)
# A linear model explains itself exactly and drifts less; take it unless boosting is clearly
# better on held-out folds.
LINEAR_PREFERENCE = 0.002
_EPS = 1e-6


class LeadScorer(ClassifierMixin, BaseEstimator):
    """Predicts conversion from a lead table and maps it to a calibrated 0-100 score.

    `kind="auto"` compares, by out-of-fold AUC on the training data only, a regularised
    logistic regression, a histogram gradient-boosted model and blends of both, and keeps the
    best. The out-of-fold probabilities of the chosen model also fit a sigmoid calibration,
    so a score of 30 means about a 30 % chance of converting on data like the training set.
    """

    def __init__(
        self,
        kind: str = "auto",
        cv: int = 3,
        C: float = 0.3,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        max_iter: int = 200,
        max_categories: int = 50,
        random_state: int = 0,
    ) -> None:
        self.kind = kind
        self.cv = cv
        self.C = C
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_iter = max_iter
        self.max_categories = max_categories
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: Any) -> LeadScorer:
        if self.kind not in KINDS:
            raise ScoringError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        target = _binary(y)
        if len(target) != len(X):
            raise ScoringError(f"{len(X)} leads but {len(target)} outcomes")
        self.features_ = LeadFeatures(max_categories=self.max_categories).fit(X)
        self.feature_names_in_ = self.features_.feature_names_in_
        self.n_features_in_ = self.features_.n_features_in_
        self.classes_ = np.array([0, 1])
        matrix = self.features_.transform(X)
        needed = ("linear", "gb") if self.kind in ("auto", "blend") else (self.kind,)
        oof = {name: self._out_of_fold(name, matrix, target) for name in needed}
        self.kind_, self.blend_weight_, self.cv_auc_ = _choose(self.kind, oof, target)
        self.calibration_ = _fit_sigmoid(_mix(oof, self.blend_weight_), target)
        self.linear_ = self._component("linear").fit(matrix, target) if self.blend_weight_ > 0 \
            else None
        self.gb_ = self._component("gb").fit(matrix, target) if self.blend_weight_ < 1 else None
        train_p = self._calibrate(_mix(oof, self.blend_weight_))
        self.decile_edges_ = np.quantile(train_p, np.linspace(0.1, 0.9, 9))
        self.base_rate_ = float(target.mean())
        return self

    def _component(self, name: str) -> HingeLogit | OrderedBoosting:
        mask = self.features_.categorical_mask_
        if name == "linear":
            return HingeLogit(categorical_mask=mask, C=self.C)
        return OrderedBoosting(categorical_mask=mask, learning_rate=self.learning_rate,
                               max_leaf_nodes=self.max_leaf_nodes, max_iter=self.max_iter,
                               random_state=self.random_state)

    def _out_of_fold(self, name: str, matrix: np.ndarray, y: np.ndarray) -> np.ndarray:
        folds = min(self.cv, int(np.bincount(y).min()))
        if folds < 2:
            raise ScoringError("too few converted (or unconverted) leads to train: need at least "
                               "2 of each, and many more for a useful model")
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        oof = np.zeros(len(y), dtype=float)
        for train, test in splitter.split(matrix, y):
            model = clone(self._component(name)).fit(matrix[train], y[train])
            oof[test] = model.predict_proba(matrix[test])[:, 1]
        return oof

    # -- scoring -----------------------------------------------------------------------------

    def predict_proba(self, X: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2); accepts a DataFrame or one lead dict."""
        check_is_fitted(self, "calibration_")
        p = self._calibrate(self._raw_proba(self.features_.transform(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def score_leads(self, X: pd.DataFrame) -> np.ndarray:
        """0-100 integer scores, one per row."""
        return np.rint(100.0 * self.predict_proba(X)[:, 1]).astype(int)

    def score_lead(self, lead: dict[str, Any]) -> int:
        """0-100 score of one lead given as {column: value}; missing keys count as unknown."""
        return int(np.rint(100.0 * self.predict_proba(dict(lead))[0, 1]))

    def deciles(self, X: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        """1 (top 10 %) to 10, against the score distribution seen in training."""
        check_is_fitted(self, "decile_edges_")
        p = self.predict_proba(X)[:, 1]
        return 10 - np.searchsorted(self.decile_edges_, p, side="right")

    def _raw_proba(self, matrix: np.ndarray) -> np.ndarray:
        parts = {}
        if self.linear_ is not None:
            parts["linear"] = self.linear_.predict_proba(matrix)[:, 1]
        if self.gb_ is not None:
            parts["gb"] = self.gb_.predict_proba(matrix)[:, 1]
        return _mix(parts, self.blend_weight_)

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_
        return 1.0 / (1.0 + np.exp(-(slope * _logit(raw) + intercept)))


def batch_deciles(scores: np.ndarray) -> np.ndarray:
    """Deciles by rank within one batch of scores: 1 = the top 10 % of this batch."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=int)
    ranks[order] = np.arange(len(values))
    return (ranks * 10 // len(values)) + 1


def _choose(
    kind: str, oof: dict[str, np.ndarray], y: np.ndarray
) -> tuple[str, float, dict[str, float]]:
    if kind in ("linear", "gb"):
        return kind, 1.0 if kind == "linear" else 0.0, {kind: _auc(y, oof[kind])}
    scores = {"linear": _auc(y, oof["linear"]), "gb": _auc(y, oof["gb"])}
    blends = {w: _auc(y, _mix(oof, w)) for w in BLEND_WEIGHTS}
    best_w = max(blends, key=lambda w: blends[w])
    scores["blend"] = blends[best_w]
    if kind == "blend":
        return "blend", best_w, scores
    best = max(scores, key=lambda k: scores[k])
    if scores["linear"] >= scores[best] - LINEAR_PREFERENCE:
        best = "linear"
    weight = {"linear": 1.0, "gb": 0.0, "blend": best_w}[best]
    return best, weight, scores


def _mix(parts: dict[str, np.ndarray], linear_weight: float) -> np.ndarray:
    if linear_weight >= 1.0:
        return parts["linear"]
    if linear_weight <= 0.0:
        return parts["gb"]
    return linear_weight * parts["linear"] + (1.0 - linear_weight) * parts["gb"]


def _fit_sigmoid(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # Platt scaling on the logit keeps the ranking (and so AUC and deciles) unchanged.
    model = LogisticRegression(C=1e4, max_iter=1000).fit(_logit(raw).reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(clipped / (1.0 - clipped))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def _binary(y: Any) -> np.ndarray:
    values = np.asarray(y)
    if values.dtype.kind in "biu" and set(np.unique(values)) <= {0, 1}:
        if len(np.unique(values)) < 2:
            raise ScoringError("the outcome has one class only: scoring needs both converted and "
                               "not-converted leads")
        return values.astype(np.int8)
    return binary_target(pd.Series(values))
