"""The per-lead nurture graph over a real store: decide, queue, approve, schedule, hand off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import select

from agent.nurture.run import NurtureAgent, Verdict, due_lead_ids
from store.db import make_engine, migrate, session_scope
from store.models import AgentRun, Approval, Draft, Event, Handoff, Lead, Touch, TouchStatus
from tests.nurture_fakes import fake_deps

ROOT = Path(__file__).resolve().parents[2]


def _lead(engine: Engine, email: str = "ana@acme.example", **fields: Any) -> int:
    with session_scope(engine) as s:
        lead = Lead(
            email=email, first_name="Ana", company="Acme", timezone="Asia/Kolkata", **fields
        )
        s.add(lead)
        s.flush()
        assert lead.id is not None
        return lead.id


def _touches(engine: Engine, lead_id: int) -> list[Touch]:
    with session_scope(engine) as s:
        return list(s.exec(select(Touch).where(Touch.lead_id == lead_id)))


def test_an_ordinary_lead_gets_a_scheduled_email_in_its_business_hours(engine: Engine) -> None:
    lead_id = _lead(engine)
    agent = NurtureAgent(fake_deps(engine), InMemorySaver())
    out = agent.run_lead(lead_id)
    assert out["result"] == "scheduled" and out["action"] == "send_email"
    [touch] = _touches(engine, lead_id)
    assert touch.status == TouchStatus.approved and touch.due_at is not None
    # 10:00 UTC on a Wednesday is 15:30 in Kolkata: inside 09:00-17:00, so now.
    assert touch.due_at.isoformat().startswith("2026-11-25T10:00")
    with session_scope(engine) as s:
        draft = s.exec(select(Draft).where(Draft.touch_id == touch.id)).one()
        run = s.exec(select(AgentRun).where(AgentRun.lead_id == lead_id)).one()
    assert draft.prompt_tokens == 120 and draft.sources == [
        "https://x-education.example/skills-gap"
    ]
    assert (run.status, run.touch_id, run.action) == ("done", touch.id, "send_email")


def test_a_second_pass_keeps_the_four_day_gap(engine: Engine) -> None:
    lead_id = _lead(engine)
    agent = NurtureAgent(fake_deps(engine), InMemorySaver())
    agent.run_lead(lead_id)
    agent.run_lead(lead_id)
    first, second = sorted(_touches(engine, lead_id), key=lambda t: t.id or 0)
    assert first.due_at is not None and second.due_at is not None
    assert (second.due_at - first.due_at).days >= 4


def test_a_top_decile_draft_waits_for_a_human_then_is_scheduled(engine: Engine) -> None:
    lead_id = _lead(engine)
    agent = NurtureAgent(fake_deps(engine, approve_all=True), InMemorySaver())
    out = agent.run_lead(lead_id)
    assert out["result"] == "awaiting_approval" and out["approval_id"]
    [touch] = _touches(engine, lead_id)
    assert touch.status == TouchStatus.drafted and touch.due_at is None
    # While it waits, the lead is not due and another run does not start a second draft.
    with session_scope(engine) as s:
        assert lead_id not in due_lead_ids(s, now=agent.deps.clock())
    assert agent.run_lead(lead_id)["skipped"] is True

    done = agent.resume(lead_id, Verdict(status="edited", by="U-SDR-1", subject="Better subject"))
    assert done["result"] == "scheduled"
    [touch] = _touches(engine, lead_id)
    assert touch.status == TouchStatus.approved and touch.due_at is not None
    with session_scope(engine) as s:
        approval = s.get(Approval, out["approval_id"])
    assert approval is not None
    assert (approval.status, approval.decided_by) == ("edited", "U-SDR-1")
    assert approval.edited_subject == "Better subject"
    # A second click finds nothing waiting and changes nothing.
    again = agent.resume(lead_id, Verdict(status="rejected", by="U-SDR-2", reason="late"))
    assert again["result"] == "not_waiting"
    assert _touches(engine, lead_id)[0].status == TouchStatus.approved


def test_a_rejected_draft_is_never_scheduled_and_keeps_the_reason(engine: Engine) -> None:
    lead_id = _lead(engine)
    agent = NurtureAgent(fake_deps(engine, approve_all=True), InMemorySaver())
    agent.run_lead(lead_id)
    out = agent.resume(lead_id, Verdict(status="rejected", by="U-SDR-1", reason="wrong tone"))
    assert out["result"] == "rejected"
    [touch] = _touches(engine, lead_id)
    assert touch.status == TouchStatus.skipped and touch.skip_reason == "rejected: wrong tone"


def test_a_demo_request_hands_off_once(engine: Engine) -> None:
    lead_id = _lead(engine)
    agent = NurtureAgent(fake_deps(engine), InMemorySaver())
    first = agent.run_lead(lead_id, trigger="demo_request")
    second = agent.run_lead(lead_id, trigger="demo_request")
    assert first["result"] == second["result"] == "handed_off"
    assert first["handoff_id"] == second["handoff_id"]
    assert _touches(engine, lead_id) == []
    with session_scope(engine) as s:
        assert len(s.exec(select(Handoff)).all()) == 1
        # An open hand-off takes the lead out of nurture until the SDR decides.
        assert lead_id not in due_lead_ids(s, now=agent.deps.clock())


def test_guardrail_findings_hold_the_draft(engine: Engine) -> None:
    lead_id = _lead(engine)

    def risky(ctx: Any) -> dict[str, Any]:
        from tests.nurture_fakes import fake_draft

        drafted = fake_draft(ctx)
        drafted["guardrail_issues"] = [{"code": "unsupported_claim", "message": "'40 %'"}]
        return drafted

    agent = NurtureAgent(fake_deps(engine, draft=risky, approve_all=True), InMemorySaver())
    assert agent.run_lead(lead_id)["result"] == "held"
    [touch] = _touches(engine, lead_id)
    assert touch.status == TouchStatus.skipped and touch.skip_reason == "held: unsupported_claim"
    with session_scope(engine) as s:
        assert s.exec(select(Approval)).all() == []


def test_a_pass_cut_short_is_finished_once_before_the_next(engine: Engine) -> None:
    lead_id = _lead(engine)
    calls = {"n": 0}

    def flaky(ctx: Any) -> dict[str, Any]:
        from tests.nurture_fakes import fake_draft

        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("model went away")
        return fake_draft(ctx)

    agent = NurtureAgent(fake_deps(engine, draft=flaky), InMemorySaver())
    with pytest.raises(ConnectionError):
        agent.run_lead(lead_id)
    assert _touches(engine, lead_id) == []
    with session_scope(engine) as s:
        failed = s.exec(select(AgentRun).where(AgentRun.lead_id == lead_id)).one()
    assert (failed.status, failed.error) == ("failed", "ConnectionError: model went away")
    agent.run_lead(lead_id)
    touches = _touches(engine, lead_id)
    assert len(touches) == 2  # the interrupted pass's touch, then the new pass's
    with session_scope(engine) as s:
        runs = s.exec(select(AgentRun).where(AgentRun.lead_id == lead_id)).all()
    assert sorted(r.status for r in runs) == ["done", "done"]


def test_one_failing_lead_does_not_stop_the_others(engine: Engine) -> None:
    bad = _lead(engine, "bad@x.example")
    good = _lead(engine, "good@x.example")

    def fails_for_bad(ctx: Any) -> dict[str, Any]:
        from tests.nurture_fakes import fake_draft

        if ctx.lead.lead_id == bad:
            raise ValueError("unusable snippet")
        return fake_draft(ctx)

    agent = NurtureAgent(fake_deps(engine, draft=fails_for_bad), InMemorySaver())
    results = {r["lead_id"]: r for r in agent.run_due()}
    assert results[bad]["result"] == "failed" and "unusable snippet" in results[bad]["reason"]
    assert results[good]["result"] == "scheduled"


def test_due_leads(engine: Engine) -> None:
    fresh = _lead(engine, "a@x.example")
    ran = _lead(engine, "b@x.example")
    customer = _lead(engine, "c@x.example", lifecycle_stage="customer")
    agent = NurtureAgent(fake_deps(engine), InMemorySaver())
    agent.run_lead(ran)
    now = agent.deps.clock()
    with session_scope(engine) as s:
        assert due_lead_ids(s, now=now) == [fresh]
        s.add(Event(source_event_id="e1", lead_id=ran, type="page_view", occurred_at=now))
    with session_scope(engine) as s:
        due = due_lead_ids(s, now=now.replace(year=2027))
    assert fresh in due and ran in due and customer not in due


# --- durable: pause in one process, resume in another ---------------------------------------


def _in_process(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.nurture_proc", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_approve_after_restart_in_another_process(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    lead_id = _lead(engine)
    var_dir = str(tmp_path / "var")
    paused = _in_process("run", database_url, var_dir, str(lead_id))
    assert paused["result"] == "awaiting_approval"
    resumed = _in_process("resume", database_url, var_dir, str(lead_id))
    assert resumed["result"] == "scheduled"
    [touch] = _touches(engine, lead_id)
    assert touch.status == TouchStatus.approved
    engine.dispose()
