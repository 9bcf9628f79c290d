"""Rules baseline: points, caps at 100, MQL thresholds, shipped files, malformed YAML."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.scoring.errors import RulesError
from tools.scoring.rules import RULES_DIR, RulesScorer, load_rules, parse_rules

SPEC = {
    "mql": {"fit": 60, "behaviour": 40},
    "fit": [
        {"column": "role", "values": {"VP": 70, "Student": 0}, "default": 10, "missing": 5},
        {"column": "size", "ranges": [{"max": 50, "points": 0}, {"min": 50, "points": 50}]},
    ],
    "behaviour": [{"column": "pricing_page_views", "each": 15, "max": 45}],
}


def test_points_caps_and_mql() -> None:
    rules = parse_rules(SPEC)
    frame = pd.DataFrame({
        "role": ["vp", "Student", "Select", "Intern"],
        "size": [500, 10, np.nan, 60],
        "pricing_page_views": [3, 10, 0, 1],
    })
    scored = rules.score(frame)
    assert scored["fit"].tolist() == [100.0, 0.0, 5.0, 60.0]
    assert scored["behaviour"].tolist() == [45.0, 45.0, 0.0, 15.0]
    assert scored["mql"].tolist() == [True, False, False, False]


def test_thresholds_are_configurable() -> None:
    rules = parse_rules({**SPEC, "mql": {"fit": 50, "behaviour": 10}})
    frame = pd.DataFrame({"role": ["Intern"], "size": [60], "pricing_page_views": [1]})
    assert bool(rules.score(frame)["mql"].iloc[0])


@pytest.mark.parametrize("name", ["default.yaml", "x_education.yaml"])
def test_shipped_rules_load(name: str) -> None:
    rules = load_rules(RULES_DIR / name)
    assert rules.fit and rules.behaviour


def test_default_rules_use_store_columns() -> None:
    rules = load_rules()
    assert {"industry", "company_size", "role", "country", "pricing_page_views",
            "demo_requests", "days_since_last_event"} <= set(rules.columns)
    hot = pd.DataFrame([{"role": "VP", "company_size": 300, "industry": "SaaS",
                         "country": "Germany", "demo_requests": 1, "pricing_page_views": 2,
                         "days_since_last_event": 1}])
    assert bool(rules.score(hot)["mql"].iloc[0])
    assert not bool(rules.score(pd.DataFrame([{"role": "Student"}]))["mql"].iloc[0])


def test_malformed_rules(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fit:\n  - column: role\n    values: {VP: lots}\n")
    with pytest.raises(RulesError, match="role"):
        load_rules(bad)
    with pytest.raises(RulesError, match="exactly one"):
        parse_rules({"fit": [{"column": "x", "each": 1, "values": {"a": 1}}]})
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "missing.yaml")


def test_rules_scorer_keeps_the_rules_ranking() -> None:
    rules = parse_rules(SPEC)
    frame = pd.DataFrame({"role": ["VP", "Student"] * 20, "size": [100, 10] * 20,
                          "pricing_page_views": [2, 0] * 20})
    y = np.array([1, 0] * 20)
    y[:4] = [0, 1, 0, 1]
    p = RulesScorer(rules).fit(frame, y).predict_proba(frame)[:, 1]
    assert p[0] > p[1]
