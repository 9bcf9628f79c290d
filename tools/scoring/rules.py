"""Rules baseline: fit and behaviour points from a YAML file, each axis capped at 100.

File format (see `rules/default.yaml`):

    name: default
    mql: {fit: 60, behaviour: 40}          # MQL when fit >= 60 AND behaviour >= 40
    composite: {fit: 0.5, behaviour: 0.5}  # ranking score = weighted mean of the axes
    fit:
      - column: role
        values: {VP: 30, Director: 25}     # case-insensitive exact match
        default: 5                         # any other given value (optional)
        missing: 0                         # value absent or a placeholder (optional)
    behaviour:
      - column: pricing_page_views
        each: 10                           # points per unit ...
        max: 30                            # ... capped
      - column: days_since_last_event
        ranges:                            # first match wins; min inclusive, max exclusive
          - {max: 7, points: 15}
          - {min: 90, points: -20}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from tools.scoring.errors import RulesError
from tools.scoring.features import PLACEHOLDERS, clean_strings

RULES_DIR = Path(__file__).parent / "rules"
AXES = ("fit", "behaviour")


@dataclass(frozen=True)
class Rule:
    """Points one column contributes to one axis."""

    column: str
    values: dict[str, float] = field(default_factory=dict)
    ranges: tuple[tuple[float, float, float], ...] = ()
    each: float | None = None
    cap: float | None = None
    default: float = 0.0
    missing: float = 0.0

    def points(self, frame: pd.DataFrame) -> np.ndarray:
        if self.column not in frame.columns:
            return np.full(len(frame), self.missing)
        raw = frame[self.column]
        if self.values:
            text = clean_strings(raw, PLACEHOLDERS).str.lower()
            lookup = {k.lower(): v for k, v in self.values.items()}
            mapped = text.map(lookup).astype("float64").fillna(self.default)
            return np.where(text.isna(), self.missing, mapped.to_numpy())
        numeric = (
            pd.to_numeric(clean_strings(raw, PLACEHOLDERS), errors="coerce")
            if not pd.api.types.is_numeric_dtype(raw)
            else raw.astype("float64")
        )
        values = numeric.to_numpy(dtype="float64")
        if self.each is not None:
            earned = np.clip(values, 0, None) * self.each
            if self.cap is not None:
                earned = np.minimum(earned, self.cap)
        else:
            conditions = [(values >= lo) & (values < hi) for lo, hi, _ in self.ranges]
            earned = np.select(conditions, [pts for _, _, pts in self.ranges], self.default)
        return np.where(np.isnan(values), self.missing, earned)

    def points_one(self, value: Any) -> float:
        """The same points for one value, without pandas (the live single-lead path)."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return self.missing
        if self.values:
            text = str(value).strip().lower()
            if text in PLACEHOLDERS:
                return self.missing
            lookup = {k.lower(): v for k, v in self.values.items()}
            return float(lookup.get(text, self.default))
        try:
            number = float(value)
        except (TypeError, ValueError):
            return self.missing
        if np.isnan(number):
            return self.missing
        if self.each is not None:
            earned = max(number, 0.0) * self.each
            return min(earned, self.cap) if self.cap is not None else earned
        for lo, hi, pts in self.ranges:
            if lo <= number < hi:
                return pts
        return self.default


@dataclass(frozen=True)
class RuleSet:
    """Two-axis rules with MQL thresholds; `score` works on a whole DataFrame at once."""

    name: str
    fit: tuple[Rule, ...]
    behaviour: tuple[Rule, ...]
    mql_fit: float = 60.0
    mql_behaviour: float = 40.0
    fit_weight: float = 0.5
    behaviour_weight: float = 0.5

    @property
    def columns(self) -> list[str]:
        return [r.column for r in (*self.fit, *self.behaviour)]

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Columns fit, behaviour (0-100 each), composite (0-100) and mql (bool)."""
        fit = _axis(self.fit, frame)
        behaviour = _axis(self.behaviour, frame)
        total = self.fit_weight + self.behaviour_weight
        composite = (self.fit_weight * fit + self.behaviour_weight * behaviour) / total
        return pd.DataFrame(
            {
                "fit": fit,
                "behaviour": behaviour,
                "composite": composite,
                "mql": (fit >= self.mql_fit) & (behaviour >= self.mql_behaviour),
            },
            index=frame.index,
        )

    def score_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """`score` for one lead given as a dict: the same numbers, in microseconds."""
        fit = min(max(sum(r.points_one(record.get(r.column)) for r in self.fit), 0.0), 100.0)
        behaviour = min(
            max(sum(r.points_one(record.get(r.column)) for r in self.behaviour), 0.0), 100.0
        )
        total = self.fit_weight + self.behaviour_weight
        composite = (self.fit_weight * fit + self.behaviour_weight * behaviour) / total
        return {
            "fit": fit,
            "behaviour": behaviour,
            "composite": composite,
            "mql": fit >= self.mql_fit and behaviour >= self.mql_behaviour,
        }


def _axis(rules: tuple[Rule, ...], frame: pd.DataFrame) -> np.ndarray:
    total = np.zeros(len(frame))
    for rule in rules:
        total += rule.points(frame)
    return np.clip(total, 0.0, 100.0)


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Read a rules YAML file; `None` loads the built-in rules for nurture's own lead store."""
    path = Path(path) if path is not None else RULES_DIR / "default.yaml"
    if not path.is_file():
        raise RulesError(f"rules file not found: {path}")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise RulesError(f"{path}: expected a mapping with 'fit' and 'behaviour' lists")
    return parse_rules(spec, source=str(path))


def parse_rules(spec: dict[str, Any], source: str = "rules") -> RuleSet:
    axes = {
        axis: tuple(
            _parse_rule(r, f"{source}: {axis}[{i}]") for i, r in enumerate(spec.get(axis) or [])
        )
        for axis in AXES
    }
    if not axes["fit"] and not axes["behaviour"]:
        raise RulesError(f"{source}: no rules under 'fit' or 'behaviour'")
    mql = spec.get("mql") or {}
    weights = spec.get("composite") or {}
    return RuleSet(
        name=str(spec.get("name", Path(source).stem)),
        fit=axes["fit"],
        behaviour=axes["behaviour"],
        mql_fit=float(mql.get("fit", 60)),
        mql_behaviour=float(mql.get("behaviour", 40)),
        fit_weight=float(weights.get("fit", 0.5)),
        behaviour_weight=float(weights.get("behaviour", 0.5)),
    )


def _parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict) or "column" not in raw:
        raise RulesError(f"{where}: each rule needs a 'column'")
    kinds = [k for k in ("values", "ranges", "each") if k in raw]
    if len(kinds) != 1:
        raise RulesError(f"{where} ({raw['column']!r}): give exactly one of values, ranges, each")
    try:
        ranges = tuple(
            (float(r.get("min", -np.inf)), float(r.get("max", np.inf)), float(r["points"]))
            for r in raw.get("ranges") or []
        )
        return Rule(
            column=str(raw["column"]),
            values={str(k): float(v) for k, v in (raw.get("values") or {}).items()},
            ranges=ranges,
            each=float(raw["each"]) if "each" in raw else None,
            cap=float(raw["max"]) if "max" in raw else None,
            default=float(raw.get("default", 0)),
            missing=float(raw.get("missing", 0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RulesError(f"{where} ({raw['column']!r}): points must be numbers ({exc})") from exc


class RulesScorer(ClassifierMixin, BaseEstimator):
    """The rules baseline as an estimator: `fit` only calibrates the composite to a probability.

    The ranking is the rules' own; fitting a sigmoid on the training rows makes its Brier score
    comparable with a model's without changing its AUC or deciles.
    """

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> RulesScorer:
        rules = self.rules or load_rules()
        self.rules_ = rules
        self.classes_ = np.array([0, 1])
        composite = rules.score(X)["composite"].to_numpy().reshape(-1, 1)
        self.calibration_ = LogisticRegression(C=1e4, max_iter=1000).fit(composite, y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "calibration_")
        composite = self.rules_.score(X)["composite"].to_numpy().reshape(-1, 1)
        result: np.ndarray = self.calibration_.predict_proba(composite)
        return result
