"""Slot extraction: lead references, segments, stages, periods, names and times from words."""

from __future__ import annotations

from datetime import date

import pytest

from agent.models.periods import period, send_time
from agent.models.slots import extract_slots, goal, lead_reference

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "lead_id"),
    [
        ("why is lead 4411 top decile?", 4411),
        ("score for lead #4411", 4411),
        ("what about #4411?", 4411),
        ("lead id 77", 77),
        ("Draft an email for LEAD 12", 12),
        ("schedule draft #55 for tomorrow", None),
        ("design a 60-day nurture", None),
    ],
)
def test_lead_ids(text: str, lead_id: int | None) -> None:
    assert extract_slots(text, TODAY).lead_id == lead_id


@pytest.mark.parametrize(
    ("text", "name", "role"),
    [
        ("draft the next touch for Acme's VP", "Acme", "VP"),
        ("Who is Kestrel Bank's head of data?", "Kestrel Bank", "head of data"),
        ("write an email for Ana Ruiz", "Ana Ruiz", None),
        ("who is the VP at Acme?", "Acme", "VP"),
        ("draft a follow-up to ana@acme.example", "ana@acme.example", None),
        ("How is the pipeline this month?", None, None),
        ("Design a 60-day nurture for mid-market fintech leads", None, None),
    ],
)
def test_lead_references(text: str, name: str | None, role: str | None) -> None:
    assert lead_reference(text) == (name, role)


@pytest.mark.parametrize(
    ("text", "segment"),
    [
        ("mid-market fintech leads", "tofu:financial-services"),
        ("leads in late:pricing", "late:pricing"),
        ("dormant leads", "re-engage"),
        ("enterprise accounts", "enterprise"),
        ("people who asked for a demo", "late:demo"),
        ("mofu:data-science this quarter", "mofu:data-science"),
        ("everyone", None),
    ],
)
def test_segments(text: str, segment: str | None) -> None:
    assert extract_slots(text, TODAY).segment == segment


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("content for the decision stage", "decision"),
        ("top of funnel content", "problem"),
        ("something for consideration", "solution"),
        ("for leads comparing vendors", "vendor"),
        ("a case study", None),
    ],
)
def test_stages(text: str, stage: str | None) -> None:
    assert extract_slots(text, TODAY).stage == stage


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("how is the pipeline this month?", date(2026, 11, 1), None),
        ("pipeline last month", date(2026, 10, 1), date(2026, 10, 31)),
        ("MQLs in the last 30 days", date(2026, 10, 26), None),
        ("this week", date(2026, 11, 23), None),
        ("last quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("since 2026-09-15", date(2026, 9, 15), None),
        ("from 2026-09-01 to 2026-09-30", date(2026, 9, 1), date(2026, 9, 30)),
        ("how did we do in october", date(2026, 10, 1), date(2026, 10, 31)),
        ("since march", date(2026, 3, 1), None),
        ("all time", None, None),
    ],
)
def test_periods(text: str, since: date | None, until: date | None) -> None:
    assert period(text.lower(), TODAY) == (since, until)


@pytest.mark.parametrize(
    ("text", "days"),
    [("a 60-day nurture", 60), ("an 8-week track", 56), ("a 3 month program", 90)],
)
def test_durations(text: str, days: int) -> None:
    assert extract_slots(text, TODAY).days == days


def test_a_period_is_not_a_duration() -> None:
    assert extract_slots("pipeline for the last 30 days", TODAY).days is None
    assert extract_slots("a nurture for leads silent for 90 days", TODAY).days is None


def test_a_person_at_a_company_is_searched_by_company() -> None:
    slots = extract_slots("email Ana at Acme", TODAY)
    assert (slots.lead_name, slots.person) == ("Acme", "Ana")
    assert extract_slots("the VP at Acme", TODAY).person is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('show the "Fintech security 60" sequence', "Fintech security 60"),
        ("pause the core sequence", "core"),
        ("show me sequence enterprise", "enterprise"),
        ("... and save it as Fintech security 60", "Fintech security 60"),
        ("call it 'Post-demo fast track'", "Post-demo fast track"),
    ],
)
def test_sequence_names(text: str, name: str) -> None:
    assert extract_slots(text, TODAY).name == name


def test_send_names_the_content_to_draft_around() -> None:
    assert extract_slots("Send lead 4411 the ROI calculator", TODAY).topic == "ROI calculator"


def test_save_clause_is_not_part_of_the_goal() -> None:
    assert goal("I need a re-engagement sequence for dormant leads") == (
        "re-engagement sequence for dormant leads"
    )
    text = "Please design a 60-day nurture for fintech leads and save it as Fintech 60"
    assert goal(text) == "60-day nurture for fintech leads"
    slots = extract_slots(text, TODAY)
    assert slots.save_as == "Fintech 60" and slots.wants_save


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("send it now", "now"),
        ("schedule it for tomorrow at 9am", "2026-11-26T09:00"),
        ("schedule it tomorrow 2:30pm", "2026-11-26T14:30"),
        ("in 3 days", "2026-11-28T09:00"),
        ("on friday", "2026-11-27T09:00"),
        ("next wednesday at 10am", "2026-12-02T10:00"),
        ("on 2026-12-01 16:15", "2026-12-01T16:15"),
        ("whenever the cadence says", None),
    ],
)
def test_send_times(text: str, when: str | None) -> None:
    assert send_time(text.lower(), TODAY) == when


def test_other_slots() -> None:
    slots = extract_slots("hand off lead 4411 to sales because they asked for pricing twice", TODAY)
    assert slots.reason == "they asked for pricing twice"
    assert extract_slots("show me the top 5 assets", TODAY).k == 5
    assert extract_slots("a nurture with 9 touches", TODAY).touches == 9
    assert extract_slots("show rejected drafts", TODAY).approval_status == "rejected"
    assert extract_slots("archive the core sequence", TODAY).status == "archived"
    assert extract_slots("content about data science", TODAY).theme == "data-science"
    assert extract_slots("content about ROI for finance teams", TODAY).topic == "ROI"
    assert extract_slots("the second one", TODAY).ordinal == 2
    assert extract_slots("2", TODAY).ordinal == 2
