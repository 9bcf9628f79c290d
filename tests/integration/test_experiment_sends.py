"""Experiments meet real sends, on SQLite and PostgreSQL: the agent's graph queues touches with
their variants, the outbox sends them, ingested events reward them. A trial is a send (never a
held, rejected or unsent draft), and a send-time arm's hour band is where its touch goes out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import col, select

from agent.chat.work_tools import work_tools
from agent.experiments import is_holdout, send_window_for, vary_format
from agent.ingest import write_events
from agent.nurture.run import NurtureAgent, Verdict
from agent.runtime import Runtime
from agent.settings import Settings
from agent.wiring import NurtureParts
from store.db import session_scope
from store.models import (
    ExperimentArm,
    ExperimentAssignment,
    Lead,
    OutboxMessage,
    Touch,
    TouchStatus,
    TriggerFiring,
)
from tests.nurture_fakes import SNIPPET, decide_by_trigger, fake_deps, fake_draft
from tests.trigger_helpers import composer
from tools.bandit.experiments import arms_of, choose_variant, create_experiment
from tools.bandit.send_time import hour_band
from tools.outbox.guard import SendPolicy
from tools.outbox.send import Outbox
from tools.outbox.transports import FileTransport
from tools.schemas import DecisionContext

WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 05:00 in New York
NEW_YORK = ZoneInfo("America/New_York")


def _lead(engine: Engine, n: int, timezone: str = "UTC") -> int:
    with session_scope(engine) as s:
        lead = Lead(
            email=f"lead{n}@acme.example", first_name="Ana", company="Acme", timezone=timezone
        )
        s.add(lead)
        s.flush()
        return int(lead.id or 0)


def _touch_of(engine: Engine, lead_id: int) -> Touch:
    with session_scope(engine) as s:
        return s.exec(select(Touch).where(Touch.lead_id == lead_id)).one()


def _assignments(engine: Engine) -> list[ExperimentAssignment]:
    with session_scope(engine) as s:
        stmt = select(ExperimentAssignment).order_by(col(ExperimentAssignment.id))
        return list(s.exec(stmt))


def _arms(engine: Engine, experiment_id: int) -> dict[int, ExperimentArm]:
    with session_scope(engine) as s:
        return {int(a.id or 0): a for a in arms_of(s, experiment_id)}


def _outbox(engine: Engine, folder: Path, at: datetime) -> Outbox:
    return Outbox(
        engine=engine,
        email=FileTransport(folder),
        composer=composer(),
        policy=SendPolicy(daily_cap=0),
        clock=lambda: at,
    )


def _reply(engine: Engine, lead_id: int, touch_id: int, event_id: str) -> None:
    with session_scope(engine) as s:
        message_id = s.exec(
            select(OutboxMessage.message_id).where(OutboxMessage.touch_id == touch_id)
        ).first()
    props: dict[str, Any] = {"message_id": message_id} if message_id else {"touch_id": touch_id}
    row = {
        "source_event_id": event_id,
        "lead_id": lead_id,
        "type": "email_reply",
        "properties": props,
        "occurred_at": WEDNESDAY + timedelta(days=1),
    }
    write_events(engine, [row])


def test_trials_are_the_sends_and_successes_the_objective(engine: Engine, tmp_path: Path) -> None:
    """Four leads get a subject variant from the real choice: one touch is sent and replied to,
    one is sent and ignored, one draft is held by a guardrail, one is rejected by an SDR."""
    with session_scope(engine) as s:
        exp = create_experiment(
            s, name="subjects", segment="*", dimension="subject", objective="reply",
            variants=["{topic}", "{first_name}, {topic}"],
        )  # fmt: skip
        exp_id = int(exp.id or 0)
    replied, ignored, held, rejected = (_lead(engine, n) for n in range(4))
    rng = np.random.default_rng(7)

    def draft(ctx: DecisionContext) -> dict[str, Any]:
        drafted = fake_draft(ctx)
        with session_scope(engine) as s:
            choice = choose_variant(
                s, segment="*", dimension="subject", lead_id=ctx.lead.lead_id, rng=rng
            )
        assert choice is not None
        drafted["experiments"] = [choice.as_dict()]
        if ctx.lead.lead_id == held:
            drafted["guardrail_issues"] = [{"code": "unsupported_claim", "message": "'40 %'"}]
        return drafted

    deps = fake_deps(engine, draft=draft, needs_approval=lambda brief: brief.lead_id == rejected)
    agent = NurtureAgent(deps, InMemorySaver())
    for lead_id in (replied, ignored, held, rejected):
        agent.run_lead(lead_id)
    agent.resume(rejected, Verdict(status="rejected", by="U-SDR-1", reason="off topic"))

    # Every assignment went with its draft and its touch when the touch was queued.
    assignments = {a.lead_id: a for a in _assignments(engine)}
    for lead_id in (replied, ignored, held, rejected):
        touch = _touch_of(engine, lead_id)
        assert assignments[lead_id].touch_id == touch.id
        assert assignments[lead_id].draft_id is not None
    assert _touch_of(engine, held).status == TouchStatus.skipped
    assert _touch_of(engine, rejected).status == TouchStatus.skipped
    assert sum(a.trials for a in _arms(engine, exp_id).values()) == 0  # nothing sent yet

    report = _outbox(engine, tmp_path / "outbox", WEDNESDAY).send_due()
    assert report["sent"] == 2
    _outbox(engine, tmp_path / "outbox", WEDNESDAY + timedelta(hours=1)).send_due()
    # Two sends, two trials (an ignored send counts too); the held and rejected drafts none.
    arms = _arms(engine, exp_id)
    assert sum(a.trials for a in arms.values()) == 2
    for lead_id in (replied, ignored):
        assert assignments[lead_id].sent_at is None  # as loaded before the send
    sent = {a.lead_id: a for a in _assignments(engine) if a.sent_at is not None}
    assert set(sent) == {replied, ignored}

    # The reply rewards its own arm once; a reply about the held draft's touch rewards nothing.
    _reply(engine, replied, _touch_of(engine, replied).id or 0, "r1")
    _reply(engine, replied, _touch_of(engine, replied).id or 0, "r1-again")
    _reply(engine, held, _touch_of(engine, held).id or 0, "r2")
    arms = _arms(engine, exp_id)
    assert sum(a.successes for a in arms.values()) == 1
    assert arms[sent[replied].arm_id].successes == 1
    # Each arm's posterior counts exactly its sends and its replies.
    rows = _assignments(engine)
    for arm_id, arm in arms.items():
        assert arm.trials == sum(1 for a in rows if a.arm_id == arm_id and a.sent_at)
        assert arm.successes == sum(1 for a in rows if a.arm_id == arm_id and a.rewarded_at)


def test_a_send_time_arm_schedules_and_sends_in_its_hour_band(
    engine: Engine, tmp_path: Path
) -> None:
    """New York leads in a send-hour experiment: each touch is due at the start of its band in
    the lead's own time, goes out inside it (a late pass defers it to the band's next start,
    not the window's), and the reply rewards that band's arm."""
    settings = Settings(NURTURE_VAR_DIR=tmp_path, NURTURE_ENV="test", NURTURE_HOLDOUT_SHARE=0)
    with session_scope(engine) as s:
        exp = create_experiment(
            s, name="hours", segment="*", dimension="send_hour_band", objective="reply",
            # 18-20 lies outside the 09:00-17:00 window: never chosen.
            variants=["9-11", "14-16", "18-20"],
        )  # fmt: skip
        exp_id = int(exp.id or 0)
    leads = [_lead(engine, n, timezone="America/New_York") for n in range(6)]
    window_for = partial(send_window_for, settings, rng=np.random.default_rng(3))
    agent = NurtureAgent(fake_deps(engine, window_for=window_for), InMemorySaver())
    for lead_id in leads:
        assert agent.run_lead(lead_id)["result"] == "scheduled"

    band_of: dict[int, str] = {}
    with session_scope(engine) as s:
        for assignment in s.exec(select(ExperimentAssignment)):
            arm = s.get(ExperimentArm, assignment.arm_id)
            assert arm is not None
            band_of[assignment.lead_id] = arm.value
    assert set(band_of) == set(leads)
    assert set(band_of.values()) == {"9-11", "14-16"}
    for lead_id in leads:
        touch = _touch_of(engine, lead_id)
        assert touch.due_at is not None
        start, _ = hour_band(band_of[lead_id])
        # Wednesday 05:00 in New York: the band's first hour that same day.
        assert touch.due_at.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(
            2026, 11, 25, start.hour
        )

    folder = tmp_path / "outbox"
    # 12:00 in New York: inside the send window, but past 9-11: those touches wait a day.
    noon = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    early = [lead_id for lead_id in leads if band_of[lead_id] == "9-11"]
    assert _outbox(engine, folder, noon).send_due().get("deferred") == len(early)
    for lead_id in early:
        due = _touch_of(engine, lead_id).due_at
        assert due is not None
        assert due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 11, 26, 9)
    _outbox(engine, folder, datetime(2026, 11, 25, 19, 0, tzinfo=UTC)).send_due()  # 14:00 NY
    _outbox(engine, folder, datetime(2026, 11, 26, 14, 0, tzinfo=UTC)).send_due()  # 09:00 NY
    for lead_id in leads:
        touch = _touch_of(engine, lead_id)
        assert touch.status == TouchStatus.sent and touch.sent_at is not None
        start, end = hour_band(band_of[lead_id])
        assert start <= touch.sent_at.astimezone(NEW_YORK).time() < end

    # Trials are the sends of each band; a reply rewards the band its touch went out in.
    arms = {a.value: a for a in _arms(engine, exp_id).values()}
    assert arms["18-20"].trials == 0
    for value in ("9-11", "14-16"):
        assert arms[value].trials == list(band_of.values()).count(value)
    late = next(lead_id for lead_id in leads if band_of[lead_id] == "14-16")
    _reply(engine, late, _touch_of(engine, late).id or 0, "reply-late")
    arms = {a.value: a for a in _arms(engine, exp_id).values()}
    assert (arms["14-16"].successes, arms["9-11"].successes) == (1, 0)


def test_a_holdout_lead_keeps_the_plain_window(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(NURTURE_VAR_DIR=tmp_path, NURTURE_ENV="test", NURTURE_HOLDOUT_SHARE=0.5)
    with session_scope(engine) as s:
        create_experiment(
            s, name="afternoon", segment="*", dimension="send_hour_band", objective="reply",
            variants=["13-15", "15-17"],
        )  # fmt: skip
    ids = [_lead(engine, n, timezone="America/New_York") for n in range(12)]
    held = next(i for i in ids if is_holdout(settings, i))
    nurtured = next(i for i in ids if not is_holdout(settings, i))
    window_for = partial(send_window_for, settings)
    agent = NurtureAgent(fake_deps(engine, window_for=window_for), InMemorySaver())
    agent.run_lead(held)
    agent.run_lead(nurtured)
    assert {a.lead_id for a in _assignments(engine)} == {nurtured}
    held_due = _touch_of(engine, held).due_at
    nurtured_due = _touch_of(engine, nurtured).due_at
    assert held_due is not None and nurtured_due is not None
    assert held_due.astimezone(NEW_YORK).time() == time(9)  # the window's start
    assert nurtured_due.astimezone(NEW_YORK).time() in (time(13), time(15))


def test_a_chat_draft_takes_its_variants_to_the_touch_it_is_scheduled_as(
    runtime: Runtime,
) -> None:
    engine = runtime.engine
    with session_scope(engine) as s:
        create_experiment(
            s, name="chat-subjects", segment="*", dimension="subject", objective="reply",
            variants=["{topic}", "{first_name}, {topic}"],
        )  # fmt: skip
    lead_id = _lead(engine, 1)
    parts = NurtureParts(runtime, None, None)
    parts.retrieve = lambda brief, action: [SNIPPET]  # type: ignore[method-assign]
    tools = {t.name: t for t in work_tools(parts)}
    kept = json.loads(tools["draft_email"].invoke({"lead_id": lead_id}))
    unscheduled = json.loads(tools["draft_email"].invoke({"lead_id": lead_id}))
    by_draft = {a.draft_id: a for a in _assignments(engine)}
    assert set(by_draft) == {kept["draft_id"], unscheduled["draft_id"]}
    assert all(a.touch_id is None for a in by_draft.values())
    scheduled = json.loads(
        tools["schedule_touch"].invoke({"lead_id": lead_id, "draft_id": kept["draft_id"]})
    )
    assert scheduled.get("touch_id"), scheduled
    by_draft = {a.draft_id: a for a in _assignments(engine)}
    assert by_draft[kept["draft_id"]].touch_id == scheduled["touch_id"]
    assert by_draft[unscheduled["draft_id"]].touch_id is None


def test_the_format_the_decision_picked_goes_with_the_touch(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(NURTURE_VAR_DIR=tmp_path, NURTURE_ENV="test", NURTURE_HOLDOUT_SHARE=0)
    with session_scope(engine) as s:
        create_experiment(
            s, name="formats", segment="*", dimension="format", objective="reply",
            variants=["text", "video"],
        )  # fmt: skip
    leads = [_lead(engine, n) for n in range(6)]
    rng = np.random.default_rng(5)

    def decide(ctx: DecisionContext) -> Any:
        return vary_format(engine, settings, ctx.lead, decide_by_trigger(ctx), rng=rng)

    agent = NurtureAgent(fake_deps(engine, decide=decide), InMemorySaver())
    for lead_id in leads:
        agent.run_lead(lead_id)
    channels = set()
    with session_scope(engine) as s:
        for assignment in s.exec(select(ExperimentAssignment)):
            touch = s.get(Touch, assignment.touch_id)
            arm = s.get(ExperimentArm, assignment.arm_id)
            assert touch is not None and arm is not None, "every format choice has its touch"
            assert touch.channel == {"text": "email", "video": "video"}[arm.value]
            channels.add(touch.channel)
    assert channels == {"email", "video"}


def test_a_chat_scheduled_touch_is_signed_and_timed_as_the_agent_would(
    runtime: Runtime, tmp_path: Path
) -> None:
    """After an unopened streak's pause the lead hears from the next colleague: a draft made in
    the chat is signed by them and its touch records them; its send time keeps the configured
    window and the hour band of the lead's send-time experiment."""
    settings = Settings(
        NURTURE_VAR_DIR=tmp_path,
        NURTURE_ENV="test",
        NURTURE_HOLDOUT_SHARE=0,
        NURTURE_ALT_SENDERS="Rahul Mehta <rahul@x-education.example>",
        NURTURE_SEND_WINDOW_START="10:00",
        NURTURE_SEND_WINDOW_END="16:00",
    )
    engine = runtime.engine
    lead_id = _lead(engine, 1, timezone="America/New_York")
    with session_scope(engine) as s:
        create_experiment(
            s, name="hours", segment="*", dimension="send_hour_band", objective="reply",
            variants=["13-15"],
        )  # fmt: skip
        s.add(
            TriggerFiring(
                lead_id=lead_id,
                rule="unopened_streak",
                action="pause",
                params={"hint": {"sender": "next"}},
                dedupe_key="unopened:1",
                due_at=datetime.now(UTC) - timedelta(days=1),
                status="done",
            )
        )
    parts = NurtureParts(Runtime(settings=settings, engine=engine), None, None)
    parts.retrieve = lambda brief, action: [SNIPPET]  # type: ignore[method-assign]
    tools = {t.name: t for t in work_tools(parts)}
    drafted = json.loads(tools["draft_email"].invoke({"lead_id": lead_id}))
    assert "Rahul Mehta" in drafted["body"]
    scheduled = json.loads(
        tools["schedule_touch"].invoke({"lead_id": lead_id, "draft_id": drafted["draft_id"]})
    )
    assert scheduled["status"] == "scheduled", scheduled
    touch = _touch_of(engine, lead_id)
    assert touch.sender == "Rahul Mehta <rahul@x-education.example>"
    assert touch.due_at is not None
    local = touch.due_at.astimezone(NEW_YORK)
    # 13:00 on the next weekday, or now when the test runs inside the band.
    assert time(13) <= local.time() < time(15) and local.weekday() < 5
    assert [a.touch_id for a in _assignments(engine)] == [touch.id]
