"""Enrolment and exit rules on a lead's facts (segments, stage, industry, size, the event)."""

from __future__ import annotations

from typing import Any

from tools.sequences import parse_definition
from tools.sequences.enrol import LeadFacts, exit_reason, fits, matches, may_enter


def sequence(**enrol: Any) -> Any:
    return parse_definition(
        {
            "name": "t",
            "enrol": {"segments": ["mofu:*", "tofu:*"], **enrol},
            "exit": {"events": ["unsubscribe", "demo_request"], "segments": ["excluded"]},
            "steps": [{"day": 1, "stage": "problem", "theme": "x", "goal": "y"}],
        }
    )


def facts(*segments: str, **kw: Any) -> LeadFacts:
    return LeadFacts(list(segments), kw.pop("lifecycle", "lead"), **kw)


def test_patterns() -> None:
    assert matches(["mofu:*"], ["enterprise", "mofu:data-science"])
    assert not matches(["mofu:*"], ["tofu:mofu"])
    assert matches(["enterprise"], ["enterprise"]) and not matches(["enterprise"], [])


def test_segments_stage_and_exclusions() -> None:
    plain = sequence()
    assert fits(plain, facts("mofu:general"))
    assert not fits(plain, facts("late:demo"))
    assert not fits(plain, facts("mofu:general", "excluded"))
    assert not fits(plain, facts("mofu:general", lifecycle="sql"))
    assert fits(sequence(lifecycle=["sql"]), facts("mofu:general", lifecycle="sql"))


def test_industry_and_size_narrow_the_segments() -> None:
    narrow = sequence(industries=["financial-services"], company_size={"min": 100, "max": 500})
    bank = facts("mofu:general", industry="financial-services", company_size=250)
    assert fits(narrow, bank)
    assert not fits(narrow, facts("mofu:general", industry="technology", company_size=250))
    assert not fits(narrow, facts("mofu:general", industry="financial-services", company_size=900))
    assert not fits(narrow, facts("mofu:general", industry="financial-services"))  # size unknown


def test_event_enrolment_needs_the_event_but_not_to_stay() -> None:
    on_download = sequence(on_events=["content_download"])
    lead = facts("tofu:technology")
    assert not may_enter(on_download, lead)
    assert not may_enter(on_download, lead, "email_open")
    assert may_enter(on_download, lead, "content_download")
    assert fits(on_download, lead)  # staying does not need the event again


def test_exit_reasons() -> None:
    plain = sequence()
    assert exit_reason(plain, segments=["mofu:x"], lifecycle="lead") is None
    assert exit_reason(plain, segments=["mofu:x"], lifecycle="lead", event_type="demo_request") == (
        "event demo_request"
    )
    assert exit_reason(plain, segments=["mofu:x"], lifecycle="customer") == "lifecycle customer"
    assert exit_reason(plain, segments=["excluded"], lifecycle="lead") == "segment excluded"
