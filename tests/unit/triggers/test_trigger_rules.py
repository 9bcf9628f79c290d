"""Trigger rules as data: the shipped file, validation messages, event matching, hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.schemas import LeadBrief, NextAction
from tools.triggers.hints import apply_hint
from tools.triggers.rules import RULES_FILE, TriggerError, load_rules, parse_rules


def shipped() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text())


def test_the_shipped_rules_cover_every_trigger_the_issue_names() -> None:
    rules = load_rules()
    kinds = {rule.name: rule.action.kind for rule in rules.rules}
    assert kinds == {
        "stop-on-opt-out": "stop",
        "demo-request": "hand_off",
        "pricing-interest": "run_agent",
        "product-page-streak": "run_agent",
        "case-study-silence": "run_agent",
        "unopened-streak": "pause",
        "dormant-returns": "run_agent",
    }
    by_name = {rule.name: rule for rule in rules.rules}
    assert by_name["product-page-streak"].count is not None
    assert by_name["product-page-streak"].count.at_least == 3
    assert by_name["case-study-silence"].follow_up is not None
    assert by_name["case-study-silence"].follow_up.after_days == 14
    assert by_name["dormant-returns"].dormant_days == 90
    assert by_name["unopened-streak"].on_sends and by_name["unopened-streak"].action.days == 10


@pytest.mark.parametrize(
    ("kind", "props", "fires"),
    [
        ("pricing_page_view", {}, True),
        ("page_view", {"path": "/pricing"}, True),
        ("email_click", {"url": "https://www.x-education.example/Pricing?utm=x"}, True),
        ("email_click", {"url": "https://www.x-education.example/faq"}, False),
        ("page_view", {"path": "/courses/data-science"}, False),
        ("page_view", {}, False),
    ],
)
def test_pricing_matchers(kind: str, props: dict[str, Any], fires: bool) -> None:
    rule = next(r for r in load_rules().rules if r.name == "pricing-interest")
    assert rule.matches(kind, props) is fires


def test_errors_name_the_rule_the_field_and_the_fix() -> None:
    data = shipped()
    data["rules"][2]["events"][0]["type"] = "pricing_view"
    data["rules"][3]["count"]["at_least"] = 1
    data["rules"][4]["actoin"] = {}
    with pytest.raises(TriggerError) as caught:
        parse_rules(data, source="mine.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("mine.yaml: rules[3] (pricing-interest).events[1].type:")
    assert "'pricing_view' is not an event type nurture knows" in lines[0]
    assert "rules[4] (product-page-streak).count.at_least" in lines[1]
    assert "rules[5] (case-study-silence).actoin: unknown field" in lines[2]


def test_inconsistent_rules_are_refused() -> None:
    data = shipped()
    data["rules"][0]["name"] = data["rules"][1]["name"]
    with pytest.raises(TriggerError, match="two rules are named 'demo-request'"):
        parse_rules(data)
    data = shipped()
    data["rules"][5]["action"] = {"kind": "pause"}
    with pytest.raises(TriggerError, match="a pause needs days"):
        parse_rules(data)
    data = shipped()
    data["rules"][2]["unopened_at_least"] = 3
    with pytest.raises(TriggerError, match="unopened_at_least applies to rules on touch_sent"):
        parse_rules(data)


def test_a_missing_or_broken_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(TriggerError, match="NURTURE_TRIGGERS_FILE"):
        load_rules(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n")
    with pytest.raises(TriggerError, match="not valid YAML"):
        load_rules(bad)
    bad.write_text("- just a list\n")
    with pytest.raises(TriggerError, match="expected a mapping with a `rules:` list"):
        load_rules(bad)


def _send(stage: str = "problem") -> NextAction:
    return NextAction(action="send_email", stage=stage, query="skills gap", reason="First touch.")


def test_a_hint_moves_a_send_forward_and_steers_retrieval() -> None:
    lead = LeadBrief(lead_id=1, first_name="Ana", stage="solution", themes=["data-science"])
    out = apply_hint(
        _send("solution"),
        {"stage": "decision", "query": "pricing instalments", "reason": "(Trigger x.)"},
        lead,
    )
    assert out.stage == "decision"
    assert out.query == "pricing instalments data science"
    assert out.reason == "First touch. (Trigger x.)"


def test_a_hint_never_moves_a_lead_back_and_never_overrides_a_wait_or_hand_off() -> None:
    lead = LeadBrief(lead_id=1, stage="vendor")
    assert apply_hint(_send("vendor"), {"stage": "problem"}, lead).stage == "vendor"
    wait = NextAction(action="wait", stage="problem", wait_days=4, reason="too soon")
    assert apply_hint(wait, {"stage": "decision", "channel": "video"}, lead) == wait
    handoff = NextAction(action="hand_off", stage="decision", reason="demo")
    assert apply_hint(handoff, {"stage": "problem"}, lead) == handoff


def test_a_video_step_needs_a_first_name_and_a_different_angle_changes_the_query() -> None:
    named = LeadBrief(lead_id=1, first_name="Ana")
    nameless = LeadBrief(lead_id=2)
    assert apply_hint(_send(), {"channel": "video"}, named).action == "send_video"
    assert apply_hint(_send(), {"channel": "video"}, nameless).action == "send_email"
    different = apply_hint(_send(), {"angle": "different"}, named)
    assert different.query != "skills gap" and "stall" in different.query
