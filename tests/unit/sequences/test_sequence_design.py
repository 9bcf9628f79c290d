"""Designing a sequence from a marketer's goal."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from knowledge.library import Asset
from tools.handoff import HandoffRule
from tools.sequences import SequenceError, design_sequence, parse_definition
from tools.sequences.cadence import schedule_days

Finder = Callable[[str, str | None, str | None], list[dict]]
GOAL = (
    "Design a 60-day nurture for mid-market fintech leads who downloaded the security "
    "whitepaper, ending in a counselling call"
)


def test_a_full_proposal_with_links(find_content: Finder, assets: list[Asset]) -> None:
    proposal = design_sequence(GOAL, find_content=find_content)
    assert proposal["segments"] == ["tofu:*", "mofu:*", "late:*"]
    assert proposal["industries"] == ["financial-services"]
    assert proposal["company_size"] == {"min": 100, "max": 500}
    assert proposal["enrol_on_events"] == ["content_download"]
    library = {asset.url: asset for asset in assets}
    for stage, hits in proposal["content_map"].items():
        assert hits, stage
        assert all(library[hit["url"]].stage == stage for hit in hits)
    steps = proposal["cadence"]["steps"]
    assert [s["day"] for s in steps] == schedule_days(60)
    assert all(library[s["content"]].stage == s["stage"] for s in steps if "content" in s)
    assert sum("content" in s for s in steps) >= len(steps) - 2
    assert steps[0]["theme"] == "welcome" and any(s["theme"] == "book a call" for s in steps)
    assert any(t["when"] == "demo_request" for t in proposal["triggers"])
    assert proposal["handoff_rule"]["score_above"] == 75
    # mid-market is read as a size range, and the proposal says so
    assert any("Company size read as 100-500 people" in q for q in proposal["missing"])
    definition = parse_definition(proposal["definition"])
    assert definition.enrol.industries == ["financial-services"]
    assert definition.enrol.company_size is not None
    assert definition.enrol.company_size.holds(250) and not definition.enrol.company_size.holds(900)
    assert (
        definition.name == proposal["name"] == "mid-market-fintech-downloaded-security-whitepaper"
    )
    assert definition.enrol.on_events == ["content_download"]
    assert "demo_request" in definition.exit.events


def test_case_study_click_branches_to_the_call(find_content: Finder) -> None:
    definition = parse_definition(design_sequence(GOAL, find_content=find_content)["definition"])
    themes = [s.theme for s in definition.steps]
    case = definition.steps[themes.index("case study")]
    assert case.branch is not None and case.branch.when == "email_click"
    assert case.branch.then.step == themes.index("book a call") + 1


def test_enterprise_goals_use_video_and_an_sdr(find_content: Finder) -> None:
    proposal = design_sequence(
        "A 45-day enterprise nurture for data science teams: book a pilot call",
        touches=9,
        find_content=find_content,
    )
    assert proposal["segments"] == ["enterprise", "mofu:data-science"]
    steps = proposal["definition"]["steps"]
    assert len(steps) == 9 and steps[-1]["day"] <= 45
    channels = {s["theme"]: s["channel"] for s in steps}
    assert channels["case study"] == "video" and channels["book a call"] == "sdr_task"
    assert proposal["missing"] == []


def test_without_search_or_segment_it_asks(find_content: Finder) -> None:
    proposal = design_sequence("Nurture people over 90 days", days=60)
    assert proposal["cadence"]["days"] == 90
    assert proposal["segments"] == ["tofu:*", "mofu:*"]
    missing = " ".join(proposal["missing"])
    assert "Which leads should enter?" in missing
    assert "No content search was given" in missing
    assert "What should a lead do at the end" in missing
    assert all(hits == [] for hits in proposal["content_map"].values())
    parse_definition(proposal["definition"])


def test_explicit_segment_and_custom_rule(find_content: Finder) -> None:
    rule = HandoffRule(score_above=80)
    proposal = design_sequence(
        "win back leads with a demo", segment="re-engage", touches=5, handoff_rule=rule
    )
    assert proposal["segments"] == ["re-engage"]
    assert proposal["handoff_rule"]["score_above"] == 80
    assert len(proposal["definition"]["steps"]) == 5


def test_stage_without_content_is_a_question(assets: list[Asset]) -> None:
    only_problem = [a for a in assets if a.stage == "problem"]

    def find(query: str, stage: str | None, segment: str | None) -> list[dict]:
        return [
            {"title": a.title, "url": a.url, "stage": a.stage}
            for a in only_problem
            if stage in (None, a.stage)
        ]

    proposal = design_sequence(
        "60-day nurture for data science leads, book a call", find_content=find
    )
    assert any(q.startswith("No decision-stage content matched") for q in proposal["missing"])
    assert proposal["content_map"]["decision"] == []


def test_bad_requests_are_refused() -> None:
    with pytest.raises(SequenceError, match="describe the goal"):
        design_sequence("   ")
    with pytest.raises(SequenceError, match="'Fintech Leads' is not a segment name"):
        design_sequence("x", segment="Fintech Leads")
    with pytest.raises(SequenceError, match="touches must be between"):
        design_sequence("x", touches=50)
