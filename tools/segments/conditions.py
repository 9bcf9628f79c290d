"""A small, safe condition language for segment rules: field/operator leaves under all/any."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tools.segments.errors import DefinitionError

ORDERING = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}
MEMBERSHIP = ("in", "not_in")
NULL_TESTS = ("is_null", "not_null")
OPERATORS = ("eq", "ne", *ORDERING, *MEMBERSHIP, *NULL_TESTS)
Scalar = str | int | float | bool


class Condition(Protocol):
    """A compiled condition: the same answer for one profile dict and for a frame's rows."""

    def test(self, profile: Mapping[str, Any]) -> bool: ...

    def mask(self, frame: pd.DataFrame) -> np.ndarray: ...

    def fields(self) -> set[str]: ...


def is_missing(value: Any) -> bool:
    """None and NaN are both "no value" (a frame stores missing numbers as NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def as_number(value: Any) -> float | None:
    if is_missing(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _column(frame: pd.DataFrame, field: str) -> pd.Series:
    # A field no lead has (a free attribute, say) is null everywhere, not an error.
    if field in frame.columns:
        return frame[field]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


@dataclass(frozen=True)
class Always:
    """A segment without `when` matches every lead that reaches it."""

    def test(self, profile: Mapping[str, Any]) -> bool:
        return True

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        return np.ones(len(frame), dtype=bool)

    def fields(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any = None

    def test(self, profile: Mapping[str, Any]) -> bool:
        value = profile.get(self.field)
        missing = is_missing(value)
        if self.op in NULL_TESTS:
            return missing if self.op == "is_null" else not missing
        if self.op in ORDERING:
            number = as_number(value)
            return number is not None and bool(getattr(number, ORDERING[self.op])(self.value))
        if self.op in MEMBERSHIP:
            try:
                inside = not missing and value in self.value
            except TypeError:  # an unhashable attribute (a list) is in no set of scalars
                inside = False
            return inside if self.op == "in" else not inside
        equal = not missing and value == self.value
        return equal if self.op == "eq" else not equal

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        series = _column(frame, self.field)
        missing = series.isna().to_numpy()
        if self.op in NULL_TESTS:
            return missing if self.op == "is_null" else ~missing
        if self.op in ORDERING:
            numbers = pd.to_numeric(series, errors="coerce").astype(float)
            result = getattr(numbers, ORDERING[self.op])(self.value)
            return result.fillna(False).to_numpy(dtype=bool)
        if self.op in MEMBERSHIP:
            inside = series.isin(list(self.value)).to_numpy() & ~missing
            return inside if self.op == "in" else ~inside
        equal = (series == self.value).fillna(False).to_numpy(dtype=bool) & ~missing
        return equal if self.op == "eq" else ~equal

    def fields(self) -> set[str]:
        return {self.field}


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]

    def test(self, profile: Mapping[str, Any]) -> bool:
        return all(part.test(profile) for part in self.parts)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        result = np.ones(len(frame), dtype=bool)
        for part in self.parts:
            result &= part.mask(frame)
        return result

    def fields(self) -> set[str]:
        return set().union(*(part.fields() for part in self.parts))


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def test(self, profile: Mapping[str, Any]) -> bool:
        return any(part.test(profile) for part in self.parts)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        result = np.zeros(len(frame), dtype=bool)
        for part in self.parts:
            result |= part.mask(frame)
        return result

    def fields(self) -> set[str]:
        return set().union(*(part.fields() for part in self.parts))


def parse_condition(raw: Any, where: str) -> Condition:
    """Compile a YAML condition; `where` names its place (segment and key) for error messages."""
    if raw is None:
        return Always()
    if not isinstance(raw, Mapping):
        raise DefinitionError(
            f"{where}: expected a mapping like {{field: ..., op: ..., value: ...}} "
            f"or {{all: [...]}} / {{any: [...]}}, got {type(raw).__name__}"
        )
    groups = [key for key in ("all", "any") if key in raw]
    if groups:
        return _parse_group(raw, groups, where)
    return _parse_leaf(raw, where)


def _parse_group(raw: Mapping[str, Any], groups: list[str], where: str) -> Condition:
    extra = sorted(set(raw) - {groups[0]})
    if extra:
        raise DefinitionError(
            f"{where}: '{groups[0]}' cannot be combined with {', '.join(map(repr, extra))} "
            "in one mapping; nest them in a list"
        )
    key = groups[0]
    items = raw[key]
    if not isinstance(items, list) or not items:
        raise DefinitionError(f"{where}.{key}: expected a non-empty list of conditions")
    parts = tuple(parse_condition(item, f"{where}.{key}[{i}]") for i, item in enumerate(items))
    return AllOf(parts) if key == "all" else AnyOf(parts)


def _parse_leaf(raw: Mapping[str, Any], where: str) -> Condition:
    unknown = sorted(set(raw) - {"field", "op", "value"})
    if unknown:
        raise DefinitionError(
            f"{where}: unknown key {unknown[0]!r}; a condition has field, op and value "
            "(or all / any)"
        )
    field = raw.get("field")
    if not isinstance(field, str) or not field.strip():
        raise DefinitionError(f"{where}.field: missing or not a text field name")
    op = raw.get("op")
    if op not in OPERATORS:
        raise DefinitionError(
            f"{where}.op: unknown operator {op!r}; use one of {', '.join(OPERATORS)}"
        )
    return Compare(field.strip(), op, _parse_value(raw, op, f"{where}.value"))


def _parse_value(raw: Mapping[str, Any], op: str, where: str) -> Any:
    if op in NULL_TESTS:
        if "value" in raw:
            raise DefinitionError(f"{where}: '{op}' takes no value")
        return None
    if "value" not in raw:
        raise DefinitionError(f"{where}: missing (operator '{op}' needs a value)")
    value = raw["value"]
    if op in ORDERING:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DefinitionError(f"{where}: '{op}' needs a number, got {value!r}")
        return float(value)
    if op in MEMBERSHIP:
        if not isinstance(value, Sequence) or isinstance(value, str) or not value:
            raise DefinitionError(f"{where}: '{op}' needs a non-empty list, got {value!r}")
        return frozenset(_scalar(item, where) for item in value)
    return _scalar(value, where)


def _scalar(value: Any, where: str) -> Scalar:
    if value is None:
        raise DefinitionError(f"{where}: null is not a value to compare; use is_null / not_null")
    if not isinstance(value, str | int | float | bool):
        raise DefinitionError(f"{where}: expected text, a number or true/false, got {value!r}")
    return value
