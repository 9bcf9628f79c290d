"""Hand-offs through the store: the rule, why now, the talk track, the SLA, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from store import crud
from store.db import session_scope
from store.models import Handoff, Lead, Outcome, Score, Sequence
from store.schemas import LeadCreate
from tools.handoff import (
    HandoffAlreadyDecided,
    HandoffError,
    HandoffRule,
    SlaPolicy,
    check_handoff,
    create_handoff,
    decide_handoff,
    handoff_view,
    handoffs_needing_attention,
)
from tools.schemas import Snippet

# A Wednesday, mid-morning UTC.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def add_lead(engine: Engine, email: str, **fields: Any) -> int:
    with session_scope(engine) as s:
        crud.upsert_leads(s, leads=[LeadCreate(email=email, first_name="Ana", **fields)])
        lead = crud.get_lead_by_email(s, email=email)
        assert lead is not None and lead.id is not None
        return lead.id


def add_events(engine: Engine, lead_id: int, *events: tuple[str, timedelta, dict]) -> None:
    rows = [
        {
            "source_event_id": f"h-{lead_id}-{kind}-{ago.total_seconds()}-{i}",
            "lead_id": lead_id,
            "type": kind,
            "properties": props,
            "occurred_at": NOW - ago,
        }
        for i, (kind, ago, props) in enumerate(events)
    ]
    with session_scope(engine) as s:
        crud.insert_events(s, rows=rows)


def add_score(engine: Engine, lead_id: int, score: float, fit: float, behaviour: float) -> None:
    with session_scope(engine) as s:
        crud.add_score(
            s,
            score=Score(
                lead_id=lead_id,
                score=score,
                decile=1 if score > 75 else 5,
                fit=fit,
                behaviour=behaviour,
                model_version="rules-test",
                factors=[{"factor": "visited pricing 3×"}],
                scored_at=NOW - timedelta(hours=1),
            ),
        )


def lead_row(engine: Engine, lead_id: int) -> Lead:
    with session_scope(engine) as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None
        return lead


def test_demo_request_hands_off_now_with_a_talk_track(engine: Engine) -> None:
    lead_id = add_lead(engine, "ana@acme.example", company="Acme", role="Analyst")
    add_events(
        engine,
        lead_id,
        ("content_download", timedelta(days=3), {"asset": "data-science-career-guide"}),
        ("page_view", timedelta(days=2), {"path": "/courses/data-science"}),
        ("pricing_page_view", timedelta(hours=5), {"path": "/pricing"}),
        ("demo_request", timedelta(hours=2), {"form": "demo"}),
    )
    with session_scope(engine) as s:
        check = check_handoff(s, lead_id=lead_id, now=NOW)
        assert check.qualifies and check.rule == "demo_request"
        assert check.why_now == (
            "Asked for a demo 2 h ago; also in the last 48 h: viewed pricing 1×."
        )
        snippet = Snippet(
            title="Pricing, instalments and scholarships",
            url="https://www.x-education.example/pricing",
            stage="decision",
            cta="Check your scholarship eligibility in 2 minutes",
            text="One price per programme.",
        )
        result = create_handoff(s, lead_id=lead_id, snippets=[snippet], now=NOW)
        assert result.created
        handoff = result.handoff
    assert handoff.rule == "demo_request"
    assert handoff.sla_due_at == NOW + timedelta(hours=4)
    track = handoff.details["talk_track"]
    assert "thanks for asking for a demo" in track["opening"]
    assert 2 <= len(track["questions"]) <= 3
    assert "What would you most like to see in the live class?" in track["questions"]
    consumed = {c["url"] for c in track["content_consumed"]}
    assert "https://www.x-education.example/resources/data-science-career-guide" in consumed
    assert track["content_to_share"][0]["url"] == snippet.url
    assert "Confirm the demo slot" in track["next_step"]
    # the course theme the lead engaged with, from its page views
    assert "Building data science skills" in " ".join(track["pains"])
    assert "[Data Science Career Guide" in (handoff.talk_track or "")
    lead = lead_row(engine, lead_id)
    assert lead.lifecycle_stage == "mql" and lead.mql_at == NOW


def test_create_is_idempotent_and_one_open_handoff_per_lead(engine: Engine) -> None:
    lead_id = add_lead(engine, "bo@acme.example")
    add_events(engine, lead_id, ("demo_request", timedelta(minutes=30), {}))
    with session_scope(engine) as s:
        first = create_handoff(s, lead_id=lead_id, now=NOW)
    with session_scope(engine) as s:
        again = create_handoff(s, lead_id=lead_id, now=NOW + timedelta(minutes=5))
    assert first.created and not again.created
    assert again.handoff.id == first.handoff.id
    with session_scope(engine) as s:
        assert len(crud.list_handoffs(s, lead_id=lead_id)) == 1
    # The store itself refuses a second open hand-off (concurrent writers).
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        crud.add_handoff(s, handoff=Handoff(lead_id=lead_id, reason="dup"))


def test_score_with_recent_intent_qualifies_stale_intent_does_not(engine: Engine) -> None:
    hot = add_lead(engine, "hot@acme.example")
    stale = add_lead(engine, "stale@acme.example")
    for lead_id in (hot, stale):
        add_score(engine, lead_id, score=82, fit=40, behaviour=30)
    add_events(engine, hot, ("pricing_page_view", timedelta(hours=5), {"path": "/pricing"}))
    add_events(engine, stale, ("pricing_page_view", timedelta(hours=49), {"path": "/pricing"}))
    with session_scope(engine) as s:
        assert check_handoff(s, lead_id=hot, now=NOW).rule == "score_and_intent"
        cold = check_handoff(s, lead_id=stale, now=NOW)
        assert not cold.qualifies and "no high-intent event in the last 48 h" in cold.why_now
        with pytest.raises(HandoffError, match="does not meet the hand-off rule"):
            create_handoff(s, lead_id=stale, now=NOW)
        manual = create_handoff(s, lead_id=stale, reason="asked for a call on LinkedIn", now=NOW)
        assert manual.handoff.rule == "manual"
        assert "asked for a call on LinkedIn" in manual.handoff.reason
    # A stricter rule is configurable.
    with session_scope(engine) as s:
        strict = HandoffRule(score_above=90, mql_qualifies=False)
        assert not check_handoff(s, lead_id=hot, rule=strict, now=NOW).qualifies


def test_mql_by_the_two_axis_rule(engine: Engine) -> None:
    lead_id = add_lead(engine, "mql@acme.example")
    add_score(engine, lead_id, score=55, fit=72, behaviour=45)
    with session_scope(engine) as s:
        check = check_handoff(s, lead_id=lead_id, now=NOW)
    assert check.rule == "mql" and "fit 72 (>= 60) and behaviour 45 (>= 40)" in check.why_now


def test_accept_makes_an_sql_and_records_latency(engine: Engine) -> None:
    lead_id = add_lead(engine, "acc@acme.example")
    add_events(engine, lead_id, ("demo_request", timedelta(minutes=10), {}))
    with session_scope(engine) as s:
        track = crud.save_sequence(s, sequence=Sequence(name="post-demo", definition={}))
        assert track.id is not None
        crud.start_enrollment(s, lead_id=lead_id, sequence_id=track.id, at=NOW)
        handoff_id = create_handoff(s, lead_id=lead_id, now=NOW).handoff.id
    assert handoff_id is not None
    decided_at = NOW + timedelta(hours=1, minutes=30)
    with session_scope(engine) as s:
        row = decide_handoff(s, handoff_id, "accepted", "sdr.maya", now=decided_at)
    assert (row.status, row.sdr, row.within_sla) == ("accepted", "sdr.maya", True)
    assert row.latency_s == 5400
    lead = lead_row(engine, lead_id)
    assert lead.lifecycle_stage == "sql" and lead.sql_at == decided_at
    with session_scope(engine) as s:  # sales has it now: nurture stops
        assert crud.current_enrollment(s, lead_id=lead_id) is None
        [enrollment] = crud.enrollment_history(s, lead_id=lead_id)
        assert (enrollment.status, enrollment.ended_at) == ("exited", decided_at)
    with (
        pytest.raises(HandoffAlreadyDecided, match=r"already accepted by sdr\.maya"),
        session_scope(engine) as s,
    ):
        decide_handoff(s, handoff_id, "rejected", "sdr.raj", "no_budget", now=decided_at)
    with session_scope(engine) as s:  # the first decision stands
        stored = s.get(Handoff, handoff_id)
        assert stored is not None and stored.status == "accepted"
        assert handoff_view(stored, now=decided_at)["sla"] == "met"
        blocked = check_handoff(s, lead_id=lead_id, now=decided_at)
        assert blocked.blocked == "lead is already sql"
        with pytest.raises(HandoffError, match="cannot be handed off: lead is already sql"):
            create_handoff(s, lead_id=lead_id, reason="again", now=decided_at)


def test_reject_feeds_scoring_and_needs_new_intent(engine: Engine) -> None:
    lead_id = add_lead(engine, "rej@acme.example")
    add_score(engine, lead_id, score=60, fit=70, behaviour=50)
    with session_scope(engine) as s:
        handoff_id = create_handoff(s, lead_id=lead_id, now=NOW).handoff.id
    assert handoff_id is not None
    with session_scope(engine) as s:
        with pytest.raises(HandoffError, match="needs a reason code: not_a_fit"):
            decide_handoff(s, handoff_id, "rejected", "sdr.raj", now=NOW)
        with pytest.raises(HandoffError, match="unknown reason code 'cheap'"):
            decide_handoff(s, handoff_id, "rejected", "sdr.raj", "cheap", now=NOW)
        with pytest.raises(HandoffError, match="accepted or rejected"):
            decide_handoff(s, handoff_id, "maybe", "sdr.raj", now=NOW)
    later = NOW + timedelta(days=1)  # Thursday 10:00, past the 14:00 Wednesday deadline
    with session_scope(engine) as s:
        row = decide_handoff(
            s, handoff_id, "rejected", "sdr.raj", "no_budget", note="self-funded", now=later
        )
        assert row.within_sla is False and handoff_view(row)["sla"] == "missed"
        outcomes = list(s.exec(select(Outcome).where(Outcome.lead_id == lead_id)))
    assert [(o.kind, o.reason) for o in outcomes] == [("rejected_mql", "no_budget: self-funded")]
    assert lead_row(engine, lead_id).lifecycle_stage == "mql"
    with session_scope(engine) as s:  # still an MQL by the axes, but rejected: needs new intent
        assert not check_handoff(s, lead_id=lead_id, now=later + timedelta(hours=1)).qualifies
    add_events(engine, lead_id, ("pricing_page_view", -timedelta(days=1, hours=2), {}))
    with session_scope(engine) as s:
        again = check_handoff(s, lead_id=lead_id, now=later + timedelta(hours=3))
    assert again.qualifies and again.rule == "mql"


def test_open_handoff_past_deadline_is_breached_and_unknown_ids_are_clear(engine: Engine) -> None:
    lead_id = add_lead(engine, "late@acme.example")
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        handoff = create_handoff(s, lead_id=lead_id, reason="called in", now=friday_4pm).handoff
    # one business hour on Friday, three on Monday
    assert handoff.sla_due_at == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert handoff_view(handoff, now=friday_4pm + timedelta(days=1))["sla"] == "on_track"
    assert handoff_view(handoff, now=datetime(2026, 11, 30, 11, 30, tzinfo=UTC))["sla"] == (
        "due_soon"
    )
    assert handoff_view(handoff, now=datetime(2026, 11, 30, 12, 1, tzinfo=UTC))["sla"] == (
        "breached"
    )
    with session_scope(engine) as s:
        soon = handoffs_needing_attention(s, now=datetime(2026, 11, 30, 11, 30, tzinfo=UTC))
        late = handoffs_needing_attention(s, now=datetime(2026, 11, 30, 12, 1, tzinfo=UTC))
    assert [h.id for h in soon["due_soon"]] == [handoff.id] and soon["breached"] == []
    assert [h.id for h in late["breached"]] == [handoff.id] and late["due_soon"] == []
    with session_scope(engine) as s, pytest.raises(HandoffError, match="no hand-off with id"):
        decide_handoff(s, 99_999, "accepted", "sdr.maya")
    with session_scope(engine) as s, pytest.raises(HandoffError, match="no lead with id"):
        create_handoff(s, lead_id=99_999, reason="x")


def test_sla_policy_from_the_rule_applies(engine: Engine) -> None:
    lead_id = add_lead(engine, "tz@acme.example")
    add_events(engine, lead_id, ("demo_request", timedelta(hours=1), {}))
    rule = HandoffRule(sla=SlaPolicy(hours=2, timezone="Asia/Kolkata"))
    with session_scope(engine) as s:
        handoff = create_handoff(s, lead_id=lead_id, rule=rule, now=NOW)
    # 10:00 UTC is 15:30 in Kolkata: 1.5 h today, 0.5 h on Thursday from 09:00 IST.
    assert handoff.handoff.sla_due_at == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
