"""Three unopened emails in a row: a pause, then a different angle and sender. End to end over
a real store and a real SMTP server: the agent drafts and signs, the outbox sends, its send
fires the trigger, the firing runs the agent once the pause is over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import col, select

from agent.nurture.run import NurtureAgent
from agent.triggered import FiringRunner
from store.db import session_scope
from store.models import Touch, TouchStatus
from tests.nurture_fakes import SENDER, SNIPPET, fake_deps, fake_draft
from tests.smtp_server import Recorder, smtp_server
from tests.trigger_helpers import WEDNESDAY, add_lead, composer, event, firings, write
from tools.drafting.render import render_email
from tools.outbox.guard import SendPolicy
from tools.outbox.send import Outbox
from tools.outbox.transports import SentLog, SmtpTransport
from tools.schemas import DecisionContext, EmailDraft
from tools.triggers.rules import load_rules
from tools.unsubscribe import unsubscribe_url

RAHUL = SENDER.model_copy(update={"name": "Rahul Mehta", "email": "rahul@x-education.example"})
PRIYA_FROM = "Priya Nair <priya@x-education.example>"
RAHUL_FROM = "Rahul Mehta <rahul@x-education.example>"


def signed_draft(ctx: DecisionContext) -> dict[str, Any]:
    """The real renderer: greeting, paragraphs, the call to action, the sender's signature."""
    assert ctx.sender is not None
    email = EmailDraft(
        subject="Ana, a quick skills check",
        preview="Two minutes",
        paragraphs=[SNIPPET.text, "The framework takes ten minutes."],
        cta_text="Read the framework",
        cta_url=SNIPPET.url,
        sources=[SNIPPET.url],
    )
    link = unsubscribe_url("http://127.0.0.1:8080", "ana@acme.example", "s3cret-for-tests")
    rendered = render_email(email, ctx, link)
    return {**fake_draft(ctx), "body": rendered.text, "html": rendered.html}


class Team:
    """The agent, the outbox over SMTP and the trigger runner on one moving clock."""

    def __init__(self, engine: Engine, recorder: Recorder, port: int, tmp: Path, alt: tuple):
        self.engine, self.recorder = engine, recorder
        self.clock = [WEDNESDAY]
        now = lambda: self.clock[0]  # noqa: E731
        deps = fake_deps(engine, clock=now, draft=signed_draft, alt_senders=alt)
        self.agent = NurtureAgent(deps, InMemorySaver())
        self.outbox = Outbox(
            engine=engine,
            email=SmtpTransport(
                host="127.0.0.1",
                port=port,
                security="none",
                sent_log=SentLog(tmp / "smtp-sent.jsonl"),
                timeout_s=10,
            ),
            composer=composer(),  # configured with the main sender only
            policy=SendPolicy(daily_cap=0),
            rules=load_rules(),
            clock=now,
        )
        self.runner = FiringRunner(engine=engine, agent=self.agent, rules=load_rules(), clock=now)

    def send_next(self, lead: int, at: datetime) -> Touch:
        """A regular pass at `at`, then the outbox at the touch's slot."""
        self.clock[0] = at
        assert self.agent.run_lead(lead)["result"] == "scheduled"
        return self.deliver(lead)

    def deliver(self, lead: int) -> Touch:
        touch = self.latest(lead)
        assert touch.status == TouchStatus.approved and touch.due_at is not None
        self.clock[0] = max(self.clock[0], touch.due_at + timedelta(minutes=5))
        assert self.outbox.send_due().get("sent") == 1
        return self.latest(lead)

    def latest(self, lead: int) -> Touch:
        with session_scope(self.engine) as s:
            stmt = select(Touch).where(Touch.lead_id == lead).order_by(col(Touch.id).desc())
            return s.exec(stmt).first()  # type: ignore[return-value]

    def froms(self) -> list[str]:
        return [str(m["From"]) for m in self.recorder.parsed()]

    def last_text(self) -> str:
        part = self.recorder.parsed()[-1].get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")

    def three_unopened(self, lead: int) -> None:
        """Three emails a week apart, none opened: the third send pauses the lead."""
        for week in range(3):
            self.send_next(lead, WEDNESDAY + timedelta(days=7 * week))
        assert self.froms() == [PRIYA_FROM] * 3
        [pause] = firings(self.engine, lead)
        assert (pause.rule, pause.action, pause.status) == ("unopened-streak", "pause", "pending")
        assert pause.params["hint"] == {"angle": "different", "sender": "next"}

    def end_of_pause(self, lead: int) -> str:
        """The pause is over: its firing runs the agent with a different angle."""
        [pause] = firings(self.engine, lead)
        self.clock[0] = pause.due_at
        assert self.runner.run_due() == {"done": 1}
        [pause] = [f for f in firings(self.engine, lead) if f.id == pause.id]
        return str(pause.result)


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as (recorder, port):
        yield recorder, port


def test_after_the_pause_a_colleague_signs_and_sends(
    engine: Engine, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    recorder, port = smtp
    team = Team(engine, recorder, port, tmp_path, (RAHUL,))
    lead = add_lead(engine)
    team.three_unopened(lead)
    assert "Priya Nair\nAdmissions counsellor, X Education" in team.last_text()

    result = team.end_of_pause(lead)
    assert f"from {RAHUL_FROM}" in result
    touch = team.latest(lead)
    assert touch.sender == RAHUL_FROM  # recorded when drafted
    # The server turns the first attempt away: the retry still goes from Rahul.
    recorder.rcpt_replies.append("451 4.3.0 try again later")
    assert touch.due_at is not None
    team.clock[0] = touch.due_at + timedelta(minutes=5)
    assert team.outbox.send_due().get("retry") == 1
    team.clock[0] += timedelta(minutes=5)
    assert team.outbox.send_due().get("sent") == 1
    assert team.froms() == [PRIYA_FROM] * 3 + [RAHUL_FROM]
    text = team.last_text()
    assert "Rahul Mehta\nAdmissions counsellor, X Education" in text and "Priya" not in text

    # The lead opens it; the next regular touch still comes from Rahul.
    write(engine, event(lead, "email_open", team.clock[0] + timedelta(hours=2)))
    team.send_next(lead, team.clock[0] + timedelta(days=2))
    assert team.froms()[-1] == RAHUL_FROM
    assert "Rahul Mehta\nAdmissions counsellor" in team.last_text()


def test_without_a_colleague_only_the_angle_changes_and_the_firing_says_so(
    engine: Engine, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    recorder, port = smtp
    team = Team(engine, recorder, port, tmp_path, ())
    lead = add_lead(engine)
    team.three_unopened(lead)
    result = team.end_of_pause(lead)
    assert "same sender: no colleague in NURTURE_ALT_SENDERS, only the angle changes" in result
    team.deliver(lead)
    assert team.froms() == [PRIYA_FROM] * 4
    assert "Priya Nair\nAdmissions counsellor" in team.last_text()
