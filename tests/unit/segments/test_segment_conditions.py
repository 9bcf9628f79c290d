"""The condition language: operator semantics, nulls, and dict / frame agreement."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from tools.segments.conditions import parse_condition
from tools.segments.errors import DefinitionError

PROFILES: list[dict[str, Any]] = [
    {"n": 3, "s": "Technology", "b": True, "x": "12"},
    {"n": 0, "s": "Media", "b": False, "x": "n/a"},
    {"n": None, "s": None, "b": None, "x": None},
    {"n": math.nan, "s": "Technology", "b": True},
    {"n": 10.5, "s": "media", "b": False, "x": 7},
]

CASES = [
    ({"field": "n", "op": "gt", "value": 2}, [True, False, False, False, True]),
    ({"field": "n", "op": "gte", "value": 0}, [True, True, False, False, True]),
    ({"field": "n", "op": "lt", "value": 3}, [False, True, False, False, False]),
    ({"field": "n", "op": "lte", "value": 3}, [True, True, False, False, False]),
    ({"field": "s", "op": "eq", "value": "Technology"}, [True, False, False, True, False]),
    ({"field": "s", "op": "ne", "value": "Technology"}, [False, True, True, False, True]),
    ({"field": "s", "op": "in", "value": ["Media", "media"]}, [False, True, False, False, True]),
    ({"field": "s", "op": "not_in", "value": ["Media"]}, [True, False, True, True, True]),
    ({"field": "n", "op": "is_null"}, [False, False, True, True, False]),
    ({"field": "n", "op": "not_null"}, [True, True, False, False, True]),
    ({"field": "b", "op": "eq", "value": True}, [True, False, False, True, False]),
    # text that reads as a number compares as one; other text never matches an ordering
    ({"field": "x", "op": "gt", "value": 5}, [True, False, False, False, True]),
    # a field no lead has is null everywhere
    ({"field": "nope", "op": "is_null"}, [True] * 5),
    ({"field": "nope", "op": "eq", "value": 1}, [False] * 5),
    (
        {
            "all": [
                {"field": "n", "op": "gt", "value": 0},
                {"field": "b", "op": "eq", "value": True},
            ]
        },
        [True, False, False, False, False],
    ),
    (
        {
            "any": [
                {"field": "n", "op": "gt", "value": 5},
                {"field": "s", "op": "eq", "value": "Media"},
            ]
        },
        [False, True, False, False, True],
    ),
    (
        {
            "any": [
                {"all": [{"field": "n", "op": "gt", "value": 1}, {"field": "x", "op": "not_null"}]},
                {"field": "s", "op": "is_null"},
            ]
        },
        [True, False, True, False, True],
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_operator_semantics_on_dicts_and_frames(raw: dict[str, Any], expected: list[bool]) -> None:
    condition = parse_condition(raw, "test")
    assert [condition.test(p) for p in PROFILES] == expected
    frame = pd.DataFrame(PROFILES, index=range(10, 15))
    assert frame["n"].dtype == float  # NaN / None become NaN: the frame path must cope
    assert condition.mask(frame).tolist() == expected


def test_missing_when_matches_everything() -> None:
    condition = parse_condition(None, "test")
    assert condition.test({}) is True
    assert condition.mask(pd.DataFrame({"a": [1, 2]})).tolist() == [True, True]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"field": "n", "op": "gtt", "value": 1}, "where.op: unknown operator 'gtt'"),
        ({"field": "n", "op": "gt", "value": "high"}, "where.value: 'gt' needs a number"),
        ({"field": "n", "op": "gt", "value": True}, "where.value: 'gt' needs a number"),
        ({"field": "n", "op": "in", "value": "a"}, "where.value: 'in' needs a non-empty list"),
        ({"field": "n", "op": "in", "value": []}, "where.value: 'in' needs a non-empty list"),
        ({"field": "n", "op": "eq"}, "where.value: missing"),
        ({"field": "n", "op": "eq", "value": None}, "use is_null / not_null"),
        ({"field": "n", "op": "is_null", "value": 1}, "'is_null' takes no value"),
        ({"op": "eq", "value": 1}, "where.field: missing"),
        ({"field": "n", "op": "eq", "value": 1, "vlaue": 2}, "unknown key 'vlaue'"),
        ({"all": []}, "where.all: expected a non-empty list"),
        ({"all": [{"field": "n", "op": "eq", "value": 1}, 3]}, "where.all[1]: expected a mapping"),
        ({"any": [{"field": "n", "op": "lt"}]}, "where.any[0].value: missing"),
        ({"all": [{"field": "n", "op": "eq", "value": 1}], "field": "x"}, "cannot be combined"),
        ("n > 3", "where: expected a mapping"),
    ],
)
def test_bad_conditions_name_the_key(raw: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_condition(raw, "where")
    assert message in str(caught.value)


def test_no_code_is_evaluated() -> None:
    # A would-be expression is just a string compared for equality, never run.
    condition = parse_condition({"field": "s", "op": "eq", "value": "__import__('os')"}, "w")
    assert condition.test({"s": "__import__('os')"}) is True
    assert condition.test({"s": "x"}) is False
