"""Sequences running: an enrolled lead becomes due when its next step comes due, the step's
stage, theme and channel steer the agent, a branch jumps ahead, the last step ends the track."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import col, select

from agent.nurture.run import NurtureAgent, due_lead_ids
from store import crud
from store.db import session_scope
from store.models import AgentRun, Enrollment, Touch
from tests.nurture_fakes import fake_deps
from tests.trigger_helpers import WEDNESDAY, add_lead
from tools.sequences import save_sequence

TRACK: dict[str, Any] = {
    "name": "test-track",
    "priority": 99,
    "enrol": {"segments": ["tofu:*", "mofu:*"]},
    "steps": [
        {
            "day": 1,
            "stage": "problem",
            "theme": "the analytics skills gap",
            "goal": "Open with the problem",
            "branch": {"when": "email_click", "within_days": 5, "then": {"step": 3}},
        },
        {"day": 3, "stage": "solution", "theme": "a call", "goal": "Talk", "channel": "sdr_task"},
        {"day": 6, "stage": "vendor", "theme": "a minute", "goal": "Show", "channel": "video"},
        {"day": 9, "stage": "decision", "theme": "pricing", "goal": "Ask"},
    ],
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def touches(engine: Engine, lead_id: int) -> list[Touch]:
    with session_scope(engine) as s:
        stmt = select(Touch).where(Touch.lead_id == lead_id).order_by(col(Touch.id))
        return list(s.exec(stmt))


def enrollment(engine: Engine, lead_id: int) -> Enrollment:
    with session_scope(engine) as s:
        return s.exec(select(Enrollment).where(Enrollment.lead_id == lead_id)).one()


def due(engine: Engine, now: datetime) -> list[int]:
    with session_scope(engine) as s:
        return due_lead_ids(s, now=now)


def test_steps_feed_the_agent_in_order_with_a_branch_and_an_end(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_sequence(s, TRACK)
    clicker = add_lead(engine, industry="Technology")
    quiet = add_lead(engine, "bo@acme.example", first_name="Bo", industry="Technology")
    clock = Clock(WEDNESDAY)
    agent = NurtureAgent(fake_deps(engine, clock=clock), InMemorySaver())
    for lead in (clicker, quiet):
        agent.run_lead(lead)  # first pass: segmented, enrolled; no step due yet
    start = enrollment(engine, clicker)
    assert start.status == "active" and start.next_step_at == start.enrolled_at + timedelta(days=1)
    assert due(engine, WEDNESDAY + timedelta(hours=1)) == []

    clock.now = start.enrolled_at + timedelta(days=1, minutes=1)
    assert set(due(engine, clock.now)) == {clicker, quiet}
    for lead in (clicker, quiet):
        out = agent.run_lead(lead)
        assert out["stage"] == "problem"
    with session_scope(engine) as s:
        run = s.exec(select(AgentRun).order_by(col(AgentRun.id).desc())).first()
    assert run is not None and "(Sequence test-track, step 1, day 1" in str(run.reason)
    assert [(t.step, t.channel) for t in touches(engine, clicker)] == [
        (None, "email"),
        (1, "email"),
    ]
    # The clicker clicks within the branch's five days; the quiet lead does not.
    step_one = touches(engine, clicker)[1]
    assert step_one.due_at is not None
    with session_scope(engine) as s:
        crud.insert_events(
            s,
            rows=[
                {
                    "source_event_id": "click-1",
                    "lead_id": clicker,
                    "type": "email_click",
                    "properties": {},
                    "occurred_at": step_one.due_at + timedelta(days=1),
                }
            ],
        )

    clock.now = start.enrolled_at + timedelta(days=9, minutes=1)
    for lead in (clicker, quiet):
        agent.run_lead(lead)
    # The clicker jumped to step 3 (a video); the quiet lead went on to step 2 (an SDR task).
    assert [(t.step, t.channel) for t in touches(engine, clicker)][-1] == (3, "video")
    assert [(t.step, t.channel) for t in touches(engine, quiet)][-1] == (2, "sdr_task")

    clock.now += timedelta(days=1)
    agent.run_lead(clicker)
    assert [(t.step, t.channel) for t in touches(engine, clicker)][-1] == (4, "email")
    finished = enrollment(engine, clicker)
    assert finished.status == "completed" and finished.next_step_at is None
    assert enrollment(engine, quiet).current_step == 2
