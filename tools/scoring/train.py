"""From a lead table to a guarded training set, a fitted scorer and benchmark figures."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tools.scoring.baseline import untuned_logistic
from tools.scoring.data import binary_target, frame_sha256
from tools.scoring.errors import DataError, TargetError
from tools.scoring.evaluate import evaluate
from tools.scoring.features import LeadFeatures
from tools.scoring.leakage import screen_columns
from tools.scoring.model import LeadScorer
from tools.scoring.rules import RuleSet, RulesScorer


@dataclass
class TrainingSet:
    """Features and outcome after the leakage guard, plus what was left out and why."""

    X: pd.DataFrame
    y: np.ndarray
    excluded: list[dict[str, str]]
    order: pd.Series | None = None


@dataclass
class TrainingReport:
    """What `train_from_frame` did: rows, exclusions, chosen model and (optionally) metrics."""

    rows: int
    positive_rate: float
    excluded: list[dict[str, str]]
    features: list[str]
    kind: str
    cv_auc: dict[str, float]
    training_data_sha256: str
    metrics: dict[str, Any] = field(default_factory=dict)


def prepare(
    frame: pd.DataFrame,
    target: str,
    *,
    id_column: str | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    time_column: str | None = None,
) -> TrainingSet:
    """Split off the outcome, drop ids and user exclusions, then run the leakage guard."""
    exclude, include = list(exclude), list(include)
    _require_columns(frame, [target], "target column", error=TargetError)
    _require_columns(frame, [c for c in (id_column, time_column) if c], "column")
    _require_columns(frame, exclude, "--exclude column")
    _require_columns(frame, include, "--include column")
    y = binary_target(frame[target], target)
    excluded = [{"column": c, "reason": "excluded by the user (--exclude)"} for c in exclude]
    if id_column:
        excluded.append({"column": id_column, "reason": "the lead id (--id)"})
    order = None
    if time_column:
        order = _time_order(frame[time_column], time_column)
        excluded.append(
            {
                "column": time_column,
                "reason": "orders the time holdout (--time-column), not a feature",
            }
        )
    dropped = {e["column"] for e in excluded} | {target}
    X = frame.drop(columns=[c for c in frame.columns if c in dropped])
    excluded += screen_columns(X, y, include=include)
    X = X.drop(columns=[e["column"] for e in excluded if e["column"] in X.columns])
    if X.shape[1] == 0:
        raise DataError(
            "no feature columns left after the exclusions above: pass the ones that "
            "are known before the outcome with --include"
        )
    features = LeadFeatures().fit(X)
    excluded += [d for d in features.dropped_ if d["column"] not in include]
    X = X.drop(columns=[d["column"] for d in features.dropped_ if d["column"] not in include])
    return TrainingSet(X=X, y=y, excluded=excluded, order=order)


def train_from_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    id_column: str | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    time_column: str | None = None,
    evaluate_first: bool = True,
    scorer: LeadScorer | None = None,
) -> tuple[LeadScorer, TrainingReport]:
    """Fit a scorer on every row (after the guard); metrics come from CV or the time holdout."""
    data = prepare(
        frame,
        target,
        id_column=id_column,
        exclude=exclude,
        include=include,
        time_column=time_column,
    )
    template = scorer or LeadScorer()
    timed = data.order is not None
    metrics: dict[str, Any] = {}
    if evaluate_first:
        metrics = evaluate(
            {"model": lambda: _fresh(template, timed)}, data.X, data.y, order=data.order
        )["model"]
    # Oldest first, so that a time-ordered scorer picks its model on the latest rows.
    rows = np.argsort(np.asarray(data.order), kind="stable") if timed else np.arange(len(data.y))
    fitted = _fresh(template, timed).fit(data.X.iloc[rows], data.y[rows])
    metrics["kind"] = fitted.kind_
    if fitted.drifting_:
        metrics["drifting"] = fitted.drifting_
    report = TrainingReport(
        rows=len(data.y),
        positive_rate=round(float(data.y.mean()), 4),
        excluded=data.excluded,
        features=list(fitted.features_.kinds_),
        kind=fitted.kind_,
        cv_auc={k: round(v, 4) for k, v in fitted.cv_auc_.items()},
        training_data_sha256=frame_sha256(frame),
        metrics=metrics,
    )
    return fitted, report


def benchmark_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    id_column: str | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    time_column: str | None = None,
    rules: RuleSet | None = None,
    baseline: bool = True,
) -> dict[str, Any]:
    """Model (and rules, and an untuned logistic regression) on the same split, as one dict."""
    data = prepare(
        frame,
        target,
        id_column=id_column,
        exclude=exclude,
        include=include,
        time_column=time_column,
    )
    made: list[LeadScorer] = []
    timed = data.order is not None

    def make_scorer() -> LeadScorer:
        # evaluate() hands the time holdout's training rows over oldest first.
        made.append(LeadScorer(time_ordered=timed))
        return made[-1]

    models: dict[str, Any] = {"model": make_scorer}
    if rules is not None:
        models["rules"] = lambda: RulesScorer(rules)
    if baseline:
        models["untuned_logistic"] = untuned_logistic
    results = evaluate(models, data.X, data.y, order=data.order)
    chosen = [m.kind_ for m in made]
    results["model"]["kind"] = max(chosen, key=chosen.count)
    results["model"]["kinds_per_split"] = chosen
    results["model"]["validation"] = made[-1].validation_
    drifting = sorted({c for m in made for c in m.drifting_})
    if drifting:
        results["model"]["drifting"] = drifting
    if "rules" in results:
        results["rules"]["kind"] = "rules"
    if "untuned_logistic" in results:
        results["untuned_logistic"]["kind"] = "linear"
    out: dict[str, Any] = {"model": results["model"]}
    if "rules" in results:
        out["rules"] = results["rules"]
    if "untuned_logistic" in results:
        out["untuned_logistic"] = results["untuned_logistic"]
    out.update(
        excluded=data.excluded,
        rows=len(data.y),
        positive_rate=round(float(data.y.mean()), 4),
        features=[str(c) for c in data.X.columns],
    )
    return out


def _fresh(template: LeadScorer, time_ordered: bool) -> LeadScorer:
    params = template.get_params()
    return LeadScorer(**{**params, "time_ordered": params["time_ordered"] or time_ordered})


def _require_columns(
    frame: pd.DataFrame, columns: Iterable[str], what: str, error: type[Exception] = DataError
) -> None:
    for column in columns:
        if column not in frame.columns:
            close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3)
            hint = (
                f"; did you mean {', '.join(repr(c) for c in close)}?"
                if close
                else (
                    f"; columns are: {', '.join(map(str, list(frame.columns)[:12]))}"
                    f"{', ...' if frame.shape[1] > 12 else ''}"
                )
            )
            raise error(f"{what} {column!r} not found{hint}")


def _time_order(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        order = values
    else:
        order = pd.to_datetime(values, errors="coerce", format="mixed")
    if order.isna().mean() > 0.05:
        raise DataError(
            f"--time-column {column!r}: {order.isna().mean():.0%} of rows are not "
            "dates or numbers; pick a created/closed date column"
        )
    ranked: pd.Series = order.rank(method="first").fillna(-1)
    return ranked
