"""Honest evaluation: stratified CV by default, a time-ordered holdout when time is known."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from tools.scoring.errors import ScoringError

ModelFactory = Callable[[], Any]


def lift_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, Brier, top-decile lift (top 10 % rate / overall) and top decile vs the other 90 %."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(np.unique(y)) < 2:
        raise ScoringError("the evaluation rows hold one class only: use more rows or CV")
    order = np.argsort(-p, kind="stable")
    top = max(1, int(np.ceil(0.1 * len(y))))
    top_rate = float(y[order[:top]].mean())
    rest = y[order[top:]]
    rest_rate = float(rest.mean()) if rest.size else float("nan")
    overall = float(y.mean())
    return {
        "auc": round(float(roc_auc_score(y, p)), 4),
        "brier": round(float(brier_score_loss(y, p)), 4),
        "top_decile_lift": round(top_rate / overall, 3),
        "top_decile_vs_rest": round(top_rate / rest_rate, 3) if rest_rate > 0 else float("inf"),
        "top_decile_rate": round(top_rate, 4),
    }


def evaluate(
    models: Mapping[str, ModelFactory],
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    order: pd.Series | np.ndarray | None = None,
    folds: int = 5,
    holdout: float = 0.2,
    random_state: int = 0,
) -> dict[str, dict[str, Any]]:
    """Score every model on the same split(s); `order` (a time per row) selects the holdout.

    With `order`, the earliest (1 - holdout) of rows train and the latest are scored, as
    happens in production. Without it, out-of-fold probabilities from stratified K-fold CV are
    pooled and scored once.
    """
    y = np.asarray(y)
    if order is not None:
        return _time_holdout(models, X, y, np.asarray(order), holdout)
    folds = min(folds, int(np.bincount(y).min()))
    if folds < 2:
        raise ScoringError("need at least 2 converted and 2 unconverted leads to evaluate")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    oof = {name: np.zeros(len(y)) for name in models}
    for train, test in splitter.split(X, y):
        for name, make in models.items():
            model = make().fit(X.iloc[train], y[train])
            oof[name][test] = model.predict_proba(X.iloc[test])[:, 1]
    split = f"stratified {folds}-fold CV"
    return {
        name: {**lift_metrics(y, p), "split": split, "rows_scored": len(y)}
        for name, p in oof.items()
    }


def _time_holdout(
    models: Mapping[str, ModelFactory],
    X: pd.DataFrame,
    y: np.ndarray,
    order: np.ndarray,
    holdout: float,
) -> dict[str, dict[str, Any]]:
    ranked = np.argsort(order, kind="stable")
    cut = round(len(y) * (1.0 - holdout))
    train, test = ranked[:cut], ranked[cut:]
    for part, rows in (("training", train), ("holdout", test)):
        if len(np.unique(y[rows])) < 2:
            raise ScoringError(
                f"the time-ordered {part} part has one class only: use CV "
                "(drop --time-column) or more history"
            )
    result = {}
    for name, make in models.items():
        p = make().fit(X.iloc[train], y[train]).predict_proba(X.iloc[test])[:, 1]
        result[name] = {
            **lift_metrics(y[test], p),
            "split": f"time-ordered holdout (latest {holdout:.0%} of rows)",
            "rows_scored": len(test),
        }
    return result
