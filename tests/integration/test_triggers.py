"""Trigger rules in the ingestion path, each rule, and acting on what fired (real store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import select

from agent.nurture.run import NurtureAgent
from agent.triggered import FiringRunner
from store import crud
from store.db import session_scope
from store.models import (
    AgentRun,
    Enrollment,
    Handoff,
    OutboxMessage,
    Sequence,
    Touch,
    TouchStatus,
    TriggerFiring,
)
from tests.nurture_fakes import fake_deps
from tests.trigger_helpers import (
    add_lead,
    add_touch,
    event,
    firings,
    minutes_ago,
    touch_of,
    write,
)
from tools.triggers import evaluate
from tools.triggers.rules import load_rules


def runner(engine: Engine, now: datetime) -> FiringRunner:
    agent = NurtureAgent(fake_deps(engine, clock=lambda: now), InMemorySaver())
    return FiringRunner(engine=engine, agent=agent, rules=load_rules(), clock=lambda: now)


def test_a_pricing_visit_fires_once_and_records_when(engine: Engine) -> None:
    lead = add_lead(engine)
    visit = event(lead, "pricing_page_view", minutes_ago(2), path="/pricing")
    assert write(engine, visit) == 1
    [fired] = firings(engine, lead)
    assert (fired.rule, fired.action, fired.status) == ("pricing-interest", "run_agent", "pending")
    assert fired.params["hint"]["stage"] == "decision"
    assert fired.params["trigger"] == "pricing_page_view"
    assert fired.received_at is not None and fired.fired_at >= fired.received_at
    assert fired.due_at <= datetime.now(UTC)
    # The same event again (a retried webhook) is a duplicate: nothing fires twice.
    assert write(engine, visit) == 0
    assert len(firings(engine, lead)) == 1


def test_a_pricing_click_in_an_email_fires_but_old_history_does_not(engine: Engine) -> None:
    clicked, historic = add_lead(engine), add_lead(engine, "bo@acme.example")
    url = "https://www.x-education.example/pricing?utm_campaign=welcome"
    write(engine, event(clicked, "email_click", minutes_ago(1), url=url))
    write(engine, event(historic, "pricing_page_view", minutes_ago(60 * 24 * 5)))
    assert [f.rule for f in firings(engine, clicked)] == ["pricing-interest"]
    assert firings(engine, historic) == []  # five days old: an import of history acts on nothing


def test_a_demo_request_hands_the_lead_off(engine: Engine) -> None:
    lead = add_lead(engine)
    write(engine, event(lead, "demo_request", minutes_ago(1), path="/book-a-demo"))
    [fired] = firings(engine, lead)
    assert (fired.rule, fired.action) == ("demo-request", "hand_off")
    report = runner(engine, datetime.now(UTC)).run_due()
    assert report == {"done": 1}
    [fired] = firings(engine, lead)
    assert fired.status == "done" and fired.result is not None
    assert fired.result.startswith("handed off")
    with session_scope(engine) as s:
        [handoff] = s.exec(select(Handoff).where(Handoff.lead_id == lead)).all()
    assert handoff.status == "pending"


def test_three_course_pages_in_seven_days_ask_if_they_are_ready_to_talk(engine: Engine) -> None:
    lead = add_lead(engine)
    write(engine, event(lead, "page_view", minutes_ago(60 * 24 * 3), path="/courses/data-science"))
    write(engine, event(lead, "page_view", minutes_ago(30), path="/blog/salary-guide-2026"))
    write(engine, event(lead, "page_view", minutes_ago(20), path="/courses/data-science"))
    assert firings(engine, lead) == []  # two course pages so far (the blog does not count)
    write(engine, event(lead, "page_view", minutes_ago(5), path="/courses/mba-essentials"))
    [fired] = firings(engine, lead)
    assert fired.rule == "product-page-streak"
    assert fired.params["hint"]["theme"] == "ready to talk?"
    # A fourth visit the same week is within the cooldown.
    write(engine, event(lead, "page_view", minutes_ago(1), path="/courses/data-science"))
    assert len(firings(engine, lead)) == 1


def test_course_pages_spread_over_ten_days_do_not_count(engine: Engine) -> None:
    lead = add_lead(engine)
    write(
        engine,
        event(lead, "page_view", minutes_ago(60 * 24 * 9), path="/courses/a"),
        event(lead, "page_view", minutes_ago(60 * 24 * 8), path="/courses/b"),
    )
    write(engine, event(lead, "page_view", minutes_ago(10), path="/courses/c"))
    assert firings(engine, lead) == []


def test_three_course_pages_in_one_batch_fire_once(engine: Engine) -> None:
    lead = add_lead(engine)
    write(engine, *[event(lead, "page_view", minutes_ago(m), path="/courses/x") for m in (9, 5, 1)])
    assert [f.rule for f in firings(engine, lead)] == ["product-page-streak"]


def test_case_study_then_fourteen_silent_days_asks_what_they_thought(engine: Engine) -> None:
    quiet, busy = add_lead(engine), add_lead(engine, "bo@acme.example")
    read_at = minutes_ago(10)
    for lead in (quiet, busy):
        write(engine, event(lead, "page_view", read_at, path="/case-studies/kestrel-health"))
    [fired] = firings(engine, quiet)
    assert fired.rule == "case-study-silence"
    assert fired.due_at == read_at + timedelta(days=14)
    # Nothing acts before the fourteen days are up.
    assert runner(engine, datetime.now(UTC)).run_due() == {}
    write(engine, event(busy, "email_open", read_at + timedelta(minutes=5)))
    later = read_at + timedelta(days=15)
    report = runner(engine, later).run_due()
    assert report == {"done": 1, "skipped": 1}
    [quiet_firing] = [f for f in firings(engine, quiet) if f.rule == "case-study-silence"]
    [busy_firing] = [f for f in firings(engine, busy) if f.rule == "case-study-silence"]
    assert quiet_firing.status == "done" and busy_firing.status == "skipped"
    assert "send_email at the vendor stage" in str(quiet_firing.result)
    assert str(busy_firing.result).startswith("not silent: email_open")
    with session_scope(engine) as s:
        run = s.exec(select(AgentRun).where(AgentRun.lead_id == quiet)).one()
    assert run.trigger == "case_study_silence"


def test_an_unsubscribe_stops_everything_at_once(engine: Engine) -> None:
    lead = add_lead(engine)
    queued = add_touch(engine, lead)
    drafted = add_touch(engine, lead, status=TouchStatus.drafted, due_at=None)
    sent = add_touch(engine, lead, status=TouchStatus.sent, sent_at=minutes_ago(60 * 24))
    with session_scope(engine) as s:
        s.add(
            OutboxMessage(
                touch_id=queued,
                lead_id=lead,
                idempotency_key=touch_of(engine, queued).idempotency_key,
                message_id="<m1@x>",
            )
        )
        sequence = Sequence(name="core", definition={})
        s.add(sequence)
        s.flush()
        assert sequence.id is not None
        crud.enroll(s, lead_id=lead, sequence_id=sequence.id)
    write(engine, event(lead, "page_view", minutes_ago(3), path="/case-studies/x"))
    write(engine, event(lead, "unsubscribe", minutes_ago(1)))
    assert touch_of(engine, queued).status == TouchStatus.skipped
    assert touch_of(engine, queued).skip_reason == "stopped: unsubscribe"
    assert touch_of(engine, drafted).status == TouchStatus.skipped
    assert touch_of(engine, sent).status == TouchStatus.sent
    rules = {f.rule: f for f in firings(engine, lead)}
    assert rules["stop-on-opt-out"].status == "done"
    assert rules["case-study-silence"].status == "cancelled"
    with session_scope(engine) as s:
        row = s.exec(select(OutboxMessage)).one()
        enrollment = s.exec(select(Enrollment).where(Enrollment.lead_id == lead)).one()
        lead_row = crud.get_lead(s, lead_id=lead)
        assert lead_row is not None
        assert crud.is_suppressed(s, email=lead_row.email)
        assert not crud.may_email(s, lead=lead_row)
    assert row.status == "cancelled"
    assert enrollment.status == "exited"


def test_a_bounce_stops_everything_too(engine: Engine) -> None:
    lead = add_lead(engine)
    queued = add_touch(engine, lead)
    write(engine, event(lead, "bounce", minutes_ago(60 * 24 * 30)))  # even an old one
    assert touch_of(engine, queued).skip_reason == "stopped: bounce"


def _sent_email(engine: Engine, lead: int, at: datetime) -> int:
    return add_touch(engine, lead, status=TouchStatus.sent, sent_at=at)


def test_three_unopened_emails_pause_the_lead_then_a_different_angle(engine: Engine) -> None:
    lead = add_lead(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        sequence = Sequence(name="core", definition={})
        s.add(sequence)
        s.flush()
        assert sequence.id is not None
        enrollment = crud.enroll(s, lead_id=lead, sequence_id=sequence.id)
        enrollment.next_step_at = now + timedelta(days=1)
    for days in (12, 8):
        _sent_email(engine, lead, now - timedelta(days=days))
    waiting = add_touch(engine, lead, due_at=now + timedelta(days=2))
    third = _sent_email(engine, lead, now)
    with session_scope(engine) as s:
        assert evaluate.on_send(s, lead_id=lead, touch_id=third, rules=load_rules(), now=now)
    [fired] = firings(engine, lead)
    assert (fired.rule, fired.action) == ("unopened-streak", "pause")
    assert fired.params["pause_days"] == 10
    assert fired.due_at == now + timedelta(days=10)
    assert fired.params["hint"] == {"angle": "different", "sender": "next"}
    assert touch_of(engine, waiting).skip_reason == "paused: unopened-streak"
    with session_scope(engine) as s:
        moved = s.exec(select(Enrollment).where(Enrollment.lead_id == lead)).one()
    assert moved.next_step_at == now + timedelta(days=10)


def test_an_open_resets_the_streak_and_a_second_streak_pauses_longer(engine: Engine) -> None:
    opened, silent = add_lead(engine), add_lead(engine, "bo@acme.example")
    now = datetime.now(UTC)
    for days in (20, 16, 12):
        _sent_email(engine, opened, now - timedelta(days=days))
    write(engine, event(opened, "email_open", now - timedelta(days=11)))
    last = _sent_email(engine, opened, now)
    with session_scope(engine) as s:
        assert evaluate.on_send(s, lead_id=opened, touch_id=last, rules=load_rules(), now=now) == []
    for days in (40, 35, 30, 20, 10):
        _sent_email(engine, silent, now - timedelta(days=days))
    sixth = _sent_email(engine, silent, now)
    with session_scope(engine) as s:
        [row] = evaluate.on_send(s, lead_id=silent, touch_id=sixth, rules=load_rules(), now=now)
    assert row["params"]["pause_days"] == 14


def test_a_lead_silent_for_ninety_days_coming_back_is_reactivated(engine: Engine) -> None:
    dormant, active, new = (add_lead(engine, f"{n}@acme.example") for n in ("d", "a", "n"))
    write(
        engine,
        event(dormant, "page_view", minutes_ago(60 * 24 * 100), path="/"),
        event(active, "page_view", minutes_ago(60 * 24 * 10), path="/"),
    )
    write(
        engine,
        *[event(lead, "email_open", minutes_ago(2)) for lead in (dormant, active, new)],
    )
    assert [f.rule for f in firings(engine, dormant)] == ["dormant-returns"]
    assert firings(engine, active) == [] and firings(engine, new) == []
    [fired] = firings(engine, dormant)
    assert fired.params["trigger"] == "re_engaged"


def test_the_strongest_rule_acts_and_the_others_merge_into_it(engine: Engine) -> None:
    lead = add_lead(engine)
    write(
        engine,
        *[event(lead, "page_view", minutes_ago(m), path="/courses/data-science") for m in (9, 7)],
        event(lead, "page_view", minutes_ago(5), path="/courses/data-science"),
        event(lead, "pricing_page_view", minutes_ago(4), path="/pricing"),
    )
    assert {f.rule for f in firings(engine, lead)} == {"pricing-interest", "product-page-streak"}
    now = datetime.now(UTC)
    assert runner(engine, now).run_due() == {"done": 1}
    by_rule = {f.rule: f for f in firings(engine, lead)}
    acted = by_rule["pricing-interest"]
    assert acted.result is not None and "send_email at the decision stage" in acted.result
    merged = by_rule["product-page-streak"]
    assert merged.result is not None and merged.result.startswith(f"merged into firing {acted.id}")
    with session_scope(engine) as s:
        runs = s.exec(select(AgentRun).where(AgentRun.lead_id == lead)).all()
        [touch] = s.exec(select(Touch).where(Touch.lead_id == lead)).all()
    assert [r.trigger for r in runs] == ["pricing_page_view"]
    assert touch.status == TouchStatus.approved


def test_a_closed_lead_is_left_alone(engine: Engine) -> None:
    lead = add_lead(engine, lifecycle_stage="customer")
    write(engine, event(lead, "pricing_page_view", minutes_ago(1)))
    assert runner(engine, datetime.now(UTC)).run_due() == {"skipped": 1}
    with session_scope(engine) as s:
        [fired] = s.exec(select(TriggerFiring)).all()
    assert fired.result == "the lead is customer"
