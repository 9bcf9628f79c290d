"""The agent's wiring honours an injected clock and prompt folder (what evals rely on)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver
from sqlmodel import select

from agent.models import OfflineChatModel
from agent.nurture.run import NurtureAgent
from agent.runtime import Runtime
from agent.wiring import NurtureParts, nurture_deps
from prompts import DEFAULT_PROMPTS_DIR, load_prompt
from store.db import session_scope
from store.models import Event, Handoff, Lead
from tests.nurture_fakes import SENDER, SNIPPET
from tools.schemas import DecisionContext, LeadBrief, NextAction

# A Wednesday morning, long before the real clock: the hand-off window is 48 hours.
MOMENT = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


def _lead(runtime: Runtime, *events: tuple[str, datetime]) -> int:
    with session_scope(runtime.engine) as session:
        lead = Lead(
            email="mei@harbour.example",
            first_name="Mei",
            company="Harbour Labs",
            role="Data analyst",
            timezone="Asia/Singapore",
        )
        session.add(lead)
        session.flush()
        assert lead.id is not None
        for number, (kind, when) in enumerate(events):
            session.add(
                Event(
                    source_event_id=f"e-{number}",
                    lead_id=lead.id,
                    type=kind,
                    properties={"path": "/demo"},
                    occurred_at=when,
                )
            )
        return lead.id


def test_the_hand_off_rule_reads_intent_as_of_the_injected_clock(runtime: Runtime) -> None:
    lead_id = _lead(runtime, ("demo_request", MOMENT - timedelta(hours=1)))
    deps = nurture_deps(runtime, clock=lambda: MOMENT)
    out = NurtureAgent(deps, InMemorySaver()).run_lead(lead_id)
    assert out["result"] == "handed_off"
    with session_scope(runtime.engine) as session:
        handoff = session.exec(select(Handoff).where(Handoff.lead_id == lead_id)).one()
    # The SLA clock starts at the injected moment, not at the machine's.
    assert handoff.sla_due_at is not None
    assert handoff.created_at.replace(tzinfo=UTC) == MOMENT
    assert MOMENT < handoff.sla_due_at.replace(tzinfo=UTC) < MOMENT + timedelta(days=5)


def test_the_same_request_read_on_the_real_clock_is_old_news(runtime: Runtime) -> None:
    lead_id = _lead(runtime, ("demo_request", MOMENT - timedelta(hours=1)))
    parts = NurtureParts(runtime, None, None)
    action = parts.decide(DecisionContext(lead=LeadBrief(lead_id=lead_id)))
    assert action.action != "hand_off"
    fixed = NurtureParts(runtime, None, None, clock=lambda: MOMENT)
    assert fixed.decide(DecisionContext(lead=LeadBrief(lead_id=lead_id))).action == "hand_off"


def test_drafts_come_from_the_prompt_folder_given(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, folder)
    path = folder / "draft_email.md"
    path.write_text(path.read_text().replace("version: 1", "version: 7-candidate", 1))
    lead_id = _lead(runtime)
    parts = NurtureParts(runtime, OfflineChatModel(), None, prompts_dir=folder)
    ctx = DecisionContext(
        lead=LeadBrief(lead_id=lead_id, first_name="Mei", company="Harbour Labs"),
        snippets=[SNIPPET],
        sender=SENDER,
        action=NextAction(action="send_email", stage="problem", reason="educate"),
    )
    drafted = parts.draft(ctx)
    assert drafted["prompt_version"] == "draft_email@7-candidate"
    assert parts.draft(ctx.model_copy())["sources"] == [SNIPPET.url]
    default = NurtureParts(runtime, OfflineChatModel(), None).draft(ctx)
    assert default["prompt_version"] == load_prompt("draft_email").ref
