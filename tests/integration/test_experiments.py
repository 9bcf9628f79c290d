"""Experiments on SQLite and PostgreSQL: assignment, rewards from ingested events, winners,
the holdout cohort, the agent's variant step and `nurture report experiments`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from agent.experiments import is_holdout, vary_email, vary_format
from agent.ingest import write_events
from agent.settings import Settings, get_settings
from store.db import session_scope
from store.models import (
    ExperimentArm,
    ExperimentAssignment,
    Lead,
    OutboxMessage,
    Outcome,
    OutcomeKind,
    Touch,
)
from tests.unit.drafting.helpers import LEADS, context_for
from tools.bandit.experiments import (
    ExperimentError,
    add_variant,
    arms_of,
    choose_variant,
    create_experiment,
    evaluate,
)
from tools.bandit.holdout import in_holdout
from tools.bandit.report import holdout_report
from tools.bandit.trials import count_sends, link_queued_touch
from tools.drafting.templates import template_email
from tools.schemas import NextAction
from ui.cli import app

NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)


def _leads(engine: Engine, n: int) -> list[int]:
    with session_scope(engine) as session:
        rows = [Lead(email=f"l{i}@acme.example", first_name="Ana") for i in range(n)]
        session.add_all(rows)
        session.flush()
        return [int(r.id or 0) for r in rows]


def _touch(engine: Engine, lead_id: int, key: str) -> int:
    with session_scope(engine) as session:
        touch = Touch(lead_id=lead_id, idempotency_key=key)
        session.add(touch)
        session.flush()
        return int(touch.id or 0)


def _event(lead_id: int, kind: str, event_id: str, **props: object) -> dict:
    return {
        "source_event_id": event_id,
        "lead_id": lead_id,
        "type": kind,
        "properties": dict(props),
        "occurred_at": NOW,
    }


def test_sends_count_trials_and_events_reward_the_right_arm_once(engine: Engine) -> None:
    [lead, other] = _leads(engine, 2)
    with session_scope(engine) as session:
        exp = create_experiment(
            session, name="subj", segment="mofu:data-science", dimension="subject",
            objective="reply", variants=["{topic}", "{first_name}, {topic}"],
        )  # fmt: skip
        choice = choose_variant(
            session, segment="mofu:data-science", dimension="subject", lead_id=lead,
            rng=np.random.default_rng(1),
        )  # fmt: skip
        assert choice is not None
        assert choose_variant(
            session,
            segment="tofu:x", dimension="subject", lead_id=lead, rng=np.random.default_rng(0)
        ) is None  # fmt: skip
    touch = _touch(engine, lead, "t1")
    with session_scope(engine) as session:
        linked = link_queued_touch(session, {"touch_id": touch}, chosen=[choice.as_dict()])
        assert linked == 1
        assert sum(a.trials for a in arms_of(session, int(exp.id or 0))) == 0  # not sent yet
    # A reply about a touch not sent (yet) rewards nothing: successes never outrun trials.
    write_events(engine, [_event(lead, "email_reply", "e0", touch_id=touch)])
    with session_scope(engine) as session:
        assert count_sends(session, touch_id=touch, at=NOW) == 1
        assert count_sends(session, touch_id=touch, at=NOW) == 0  # a send counts once
    # An open is never an objective, a click is not this one's; the reply counts, once.
    write_events(engine, [_event(lead, "email_open", "e1", touch_id=touch)])
    write_events(engine, [_event(lead, "email_click", "e2", touch_id=touch)])
    write_events(engine, [_event(lead, "email_reply", "e3", touch_id=touch)])
    write_events(engine, [_event(lead, "email_reply", "e4", touch_id=str(touch))])
    with session_scope(engine) as session:
        arms = {a.id: a for a in arms_of(session, int(exp.id or 0))}
        assert sum(a.trials for a in arms.values()) == 1
        assert arms[choice.arm_id].successes == 1
        assert sum(a.successes for a in arms.values()) == 1
        assignment = session.get(ExperimentAssignment, choice.assignment_id)
        assert assignment is not None and assignment.touch_id == touch
        assert assignment.reward_event_id == "e3"
    # Another lead's touch never rewards this lead's assignment.
    other_touch = _touch(engine, other, "t2")
    write_events(engine, [_event(other, "email_reply", "e5", touch_id=other_touch)])
    with session_scope(engine) as session:
        assert sum(a.successes for a in arms_of(session, int(exp.id or 0))) == 1


def test_an_outbox_message_id_finds_the_touch(engine: Engine) -> None:
    [lead] = _leads(engine, 1)
    with session_scope(engine) as session:
        exp = create_experiment(
            session, name="cta", segment="*", dimension="cta", objective="click",
            variants=["{cta}", "Reply with your questions"],
        )  # fmt: skip
        choice = choose_variant(
            session, segment="anything", dimension="cta", lead_id=lead, rng=np.random.default_rng(2)
        )
        assert choice is not None
    touch = _touch(engine, lead, "t-out")
    with session_scope(engine) as session:
        session.add(
            OutboxMessage(
                touch_id=touch, lead_id=lead, idempotency_key="t-out", message_id="<abc@x>"
            )
        )
        link_queued_touch(session, {"touch_id": touch}, chosen=[choice.as_dict()])
        count_sends(session, touch_id=touch, at=NOW)
    write_events(engine, [_event(lead, "email_click", "c1", message_id="<abc@x>")])
    with session_scope(engine) as session:
        arm = session.get(ExperimentArm, choice.arm_id)
        assert arm is not None and arm.successes == 1
        assert exp.objective == "click"


def test_winner_is_promoted_to_control_and_queued_challengers_start(engine: Engine) -> None:
    with session_scope(engine) as session:
        exp = create_experiment(
            session, name="fmt", segment="late:pricing", dimension="format", objective="meeting",
            variants=["text", "video"], min_trials=100,
        )  # fmt: skip
        exp_id = int(exp.id or 0)
        text_arm, video_arm = arms_of(session, exp_id)
        assert text_arm.is_control and not video_arm.is_control
        text_arm.trials, text_arm.successes = 400, 4
        video_arm.trials, video_arm.successes = 400, 30
        session.add_all([text_arm, video_arm])
        session.flush()
        verdict = evaluate(session, experiment_id=exp_id, rng=np.random.default_rng(3))
        assert verdict is not None and verdict.winner == 1
        arms = {a.value: a for a in arms_of(session, exp_id)}
        assert arms["video"].is_control and arms["video"].status == "active"
        assert arms["text"].status == "retired" and not arms["text"].is_control
        session.refresh(exp)
        assert exp.round == 2 and exp.last_verdict["winner_arm_id"] == arms["video"].id


def test_a_lone_control_takes_challengers_from_the_draft(engine: Engine) -> None:
    [lead] = _leads(engine, 1)
    with session_scope(engine) as session:
        exp = create_experiment(
            session, name="solo", segment="*", dimension="subject", objective="reply",
            variants=["{topic}"],
        )  # fmt: skip
        choose_variant(
            session, segment="*", dimension="subject", lead_id=lead, rng=np.random.default_rng(4),
            candidates=lambda: ["{topic}", "For {company}: {topic}", "{bad}", "{first_name}, hi"],
        )  # fmt: skip
        values = [a.value for a in arms_of(session, int(exp.id or 0))]
        assert values == ["{topic}", "For {company}: {topic}", "{first_name}, hi"]
        assert [a.source for a in arms_of(session, int(exp.id or 0))][1:] == ["draft", "draft"]


def test_bad_requests_say_what_to_change(engine: Engine) -> None:
    with session_scope(engine) as session:
        with pytest.raises(ExperimentError, match="vanity"):
            create_experiment(session, name="o", segment="*", dimension="subject", objective="open")
        create_experiment(session, name="a", segment="*", dimension="subject", objective="reply")
        with pytest.raises(ExperimentError, match="already runs"):
            create_experiment(
                session, name="b", segment="*", dimension="subject", objective="click"
            )
        with pytest.raises(ExperimentError, match="unknown placeholder"):
            add_variant(session, experiment_id=1, value="Hi {name}")


def test_holdout_report_counts_each_cohort_by_the_hash(engine: Engine) -> None:
    ids = _leads(engine, 400)
    with session_scope(engine) as session:
        for lead_id in ids[::7]:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            lead.lifecycle_stage = "sql"  # type: ignore[assignment]
            session.add(lead)
        for lead_id in ids[3::11]:
            session.add(Outcome(lead_id=lead_id, kind=OutcomeKind.won, occurred_at=NOW))
    with session_scope(engine) as session:
        report = holdout_report(session, share=0.2, salt="t")
    held = {i for i in ids if in_holdout(i, share=0.2, salt="t")}
    converted = set(ids[::7]) | set(ids[3::11])
    assert report["holdout"] == len(held)
    assert report["nurtured"] == len(ids) - len(held)
    assert report["holdout_converted"] == len(held & converted)
    assert report["nurtured_converted"] == len(converted - held)
    low, high = report["uplift_ci"]
    assert low <= report["uplift"] <= high


def test_the_agent_varies_subjects_for_nurtured_leads_and_not_for_the_holdout(
    engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(NURTURE_VAR_DIR=tmp_path, NURTURE_ENV="test", NURTURE_HOLDOUT_SHARE=0.5)
    ids = _leads(engine, 40)
    held = next(i for i in ids if is_holdout(settings, i))
    nurtured = next(i for i in ids if not is_holdout(settings, i))
    with session_scope(engine) as session:
        create_experiment(
            session, name="s", segment="mofu:data-science", dimension="subject",
            objective="reply", variants=["Worth a look: {topic}"],
        )  # fmt: skip
        create_experiment(
            session, name="f", segment="*", dimension="format", objective="reply",
            variants=["video"],
        )  # fmt: skip
    lead = LEADS["career-switcher"]
    for lead_id, expect in ((held, False), (nurtured, True)):
        ctx = context_for(lead.model_copy(update={"lead_id": lead_id}))
        draft = template_email(ctx)
        varied, chosen = vary_email(engine, settings, None, ctx, draft)
        assert bool(chosen) is expect
        if expect:
            assert chosen[0]["dimension"] == "subject"
            assert "{" not in varied.subject
            if chosen[0]["value"] == "Worth a look: {topic}":
                assert varied.subject.startswith("Worth a look: ")
        else:
            assert varied == draft
        action = NextAction(action="send_email", stage="solution", reason="r")
        brief = ctx.lead
        assert vary_format(engine, settings, brief, action).action == (
            "send_video" if expect else "send_email"
        )
    with session_scope(engine) as session:
        leads_assigned = set(session.exec(select(ExperimentAssignment.lead_id)))
        assert leads_assigned == {nurtured}


def test_cli_creates_lists_and_reports(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        pytest.skip("the CLI opens its own engine; the schema per test lives in search_path")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NURTURE_ENV", "test")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(
            app,
            ["experiment", "create", "--name", "m", "--segment", "*", "--dimension", "subject",
             "--objective", "reply", "--variant", "{topic}", "--json"],
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        assert json.loads(made.output)["arms"][0]["control"] is True
        added = runner.invoke(app, ["experiment", "add-variant", "m", "{first_name}, {topic}"])
        assert added.exit_code == 0, added.output
        bad = runner.invoke(app, ["experiment", "add-variant", "m", "Hi {name}"])
        assert bad.exit_code == 1 and "unknown placeholder" in bad.output
        wrong = runner.invoke(
            app,
            ["experiment", "create", "--name", "o", "--segment", "*", "--dimension", "cta",
             "--objective", "open"],
        )  # fmt: skip
        assert wrong.exit_code == 1 and "vanity" in wrong.output
        report = runner.invoke(app, ["report", "experiments", "--json"])
        assert report.exit_code == 0, report.output
        data = json.loads(report.output)
        assert [a["value"] for a in data["experiments"][0]["arms"]] == [
            "{topic}",
            "{first_name}, {topic}",
        ]
        assert data["holdout"]["holdout_share"] == 0.05
        text = runner.invoke(app, ["report", "experiments"])
        assert text.exit_code == 0 and "Holdout" in text.output
    finally:
        get_settings.cache_clear()
