"""Shared set-up for the Slack tests: a served nurture app wired to a local Slack stub, a lead
with a paused draft (real scoring, a real SqliteSaver thread), and hand-offs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import Engine
from sqlmodel import select

from agent.nurture.run import NurtureAgent
from agent.runtime import Runtime
from agent.settings import Settings
from store import crud
from store.db import session_scope
from store.models import Approval, Handoff, Lead, SlackCard
from tests.nurture_fakes import fake_deps
from tests.servers import serve_asgi
from tests.slack_stub import BOT_TOKEN, SIGNING_SECRET, Call, SlackStub, running_stub
from tools.handoff import create_handoff
from tools.lead_scoring import rescore_all
from ui.http import create_app
from ui.slack import SlackEndpoint
from ui.slack.config import load_slack_config
from ui.slack.desk import SlackDesk, make_client

SDR_CHANNEL = "C0SDR"
USERS = {
    "U0SDR1": {"name": "Asha Rao", "role": "sdr", "owner": "asha"},
    "U0SDR2": {"name": "Ben Ortiz", "role": "sdr"},
    "U0MGR1": {"name": "Meera Shah", "role": "manager"},
}
# The graph's clock in tests/nurture_fakes.py: Wednesday 25 Nov 2026, 10:00 UTC.
GRAPH_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def slack_settings(var_dir: Path, api_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "NURTURE_VAR_DIR": var_dir,
        "NURTURE_ENV": "test",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": api_url,
        "SLACK_SDR_CHANNEL": SDR_CHANNEL,
        "NURTURE_SLACK_USERS": json.dumps(USERS),
        **extra,
    }
    return Settings(_env_file=None, **values)


@contextmanager
def agent_over(engine: Engine, checkpoints: Path) -> Iterator[NurtureAgent]:
    """The nurture agent on its own connection to the checkpoint file, as another process
    would open it: the Slack click resumes a thread paused elsewhere."""
    conn = sqlite3.connect(checkpoints, check_same_thread=False)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield NurtureAgent(fake_deps(engine, approve_all=True), saver)
    finally:
        conn.close()


@dataclass
class Served:
    url: str
    stub: SlackStub
    desk: SlackDesk
    runtime: Runtime
    checkpoints: Path
    clock: list[datetime]

    @property
    def engine(self) -> Engine:
        return self.runtime.engine


@contextmanager
def served_slack(engine: Engine, tmp_path: Path, **settings: Any) -> Iterator[Served]:
    """`nurture serve`'s app on loopback with Slack on, its Web API calls going to the stub."""
    with running_stub() as (stub, api_url):
        runtime = Runtime(slack_settings(tmp_path / "var", api_url, **settings), engine)
        config = load_slack_config(runtime.settings)
        checkpoints = tmp_path / "checkpoints.db"
        clock = [GRAPH_NOW]
        desk = SlackDesk(
            runtime,
            config,
            make_client(config),
            agent_factory=lambda: agent_over(engine, checkpoints),
            clock=lambda: clock[0],
        )
        app = create_app(runtime)
        endpoint = SlackEndpoint(desk)
        app.state.slack = endpoint
        try:
            with serve_asgi(app) as url:
                yield Served(url, stub, desk, runtime, checkpoints, clock)
        finally:
            endpoint.close()  # lazy work finishes before the database goes away


def add_lead(
    engine: Engine, *, email: str = "ravi@acme.example", at: datetime = GRAPH_NOW, **fields: Any
) -> int:
    """A lead who viewed pricing three times, downloaded content and clicked an email lately
    (as of `at`)."""
    values = {
        "first_name": "Ravi",
        "last_name": "Kumar",
        "company": "Acme Analytics",
        "role": "VP Sales",
        "industry": "Software",
        "company_size": 250,
        **fields,
    }
    with session_scope(engine) as s:
        lead = Lead(email=email, **values)
        s.add(lead)
        s.flush()
        assert lead.id is not None
        lead_id = lead.id
        rows = [
            {
                "source_event_id": f"s-{lead_id}-{i}",
                "lead_id": lead_id,
                "type": kind,
                "properties": {"path": "/pricing"} if kind == "pricing_page_view" else {},
                "occurred_at": at - timedelta(hours=hours),
            }
            for i, (kind, hours) in enumerate(
                [
                    ("pricing_page_view", 20),
                    ("pricing_page_view", 26),
                    ("pricing_page_view", 30),
                    ("content_download", 50),
                    ("email_click", 70),
                ]
            )
        ]
        crud.insert_events(s, rows=rows)
    return lead_id


def scored_population(engine: Engine, *, cold: int = 19) -> None:
    """Quiet leads and a full rescore: deciles (and the top decile's reasons) mean something."""
    with session_scope(engine) as s:
        if crud.get_lead_by_email(s, email="cold-0@example.org") is not None:
            return
        for i in range(cold):
            s.add(Lead(email=f"cold-{i}@example.org", first_name=f"Cold{i}"))
    with session_scope(engine) as s:
        rescore_all(s, now=GRAPH_NOW)


def paused_draft(served: Served, **lead: Any) -> tuple[int, int]:
    """A lead whose pass drafted an email and paused for approval: (lead id, approval id)."""
    lead_id = add_lead(served.engine, **lead)
    scored_population(served.engine)
    with agent_over(served.engine, served.checkpoints) as agent:
        out = agent.run_lead(lead_id, trigger="pricing_page_view")
    assert out["result"] == "awaiting_approval", out
    return lead_id, int(out["approval_id"])


def open_handoff(served: Served, *, created: datetime = MONDAY_9, **lead: Any) -> int:
    lead_id = add_lead(served.engine, at=created, **lead)
    with session_scope(served.engine) as s:
        result = create_handoff(
            s, lead_id=lead_id, reason="asked for a call back", seller="X Education", now=created
        )
        assert result.handoff.id is not None
        return result.handoff.id


def card_row(engine: Engine, kind: str, ref_id: int) -> SlackCard:
    with session_scope(engine) as s:
        row = s.exec(
            select(SlackCard).where(SlackCard.kind == kind, SlackCard.ref_id == ref_id)
        ).one()
        return row


def approval(engine: Engine, approval_id: int) -> Approval:
    with session_scope(engine) as s:
        row = s.get(Approval, approval_id)
        assert row is not None
        return row


def handoff(engine: Engine, handoff_id: int) -> Handoff:
    with session_scope(engine) as s:
        row = s.get(Handoff, handoff_id)
        assert row is not None
        return row


def set_created(engine: Engine, table: type[Approval] | type[Handoff], ref_id: int, at: datetime):
    with session_scope(engine) as s:
        row = s.get(table, ref_id)
        assert row is not None
        row.created_at = at
        s.add(row)


def buttons(call: Call) -> dict[str, str]:
    """action_id -> value of the buttons on a posted or updated card."""
    return {
        element["action_id"]: element["value"]
        for block in call.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }
