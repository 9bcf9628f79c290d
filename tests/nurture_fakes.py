"""Deterministic stand-ins for the nurture graph's model-driven parts (no model, no index)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.nurture.deps import NurtureDeps
from store.models import Handoff
from tools.schemas import DecisionContext, LeadBrief, NextAction, Sender, Snippet

SENDER = Sender(
    name="Priya Nair",
    title="Admissions counsellor",
    company="X Education",
    email="priya@x-education.example",
    address="12 MG Road, Bengaluru 560001, India",
)
SNIPPET = Snippet(
    title="Skills-gap framework",
    url="https://x-education.example/skills-gap",
    stage="problem",
    text="Map the skills your next role needs against what you have today.",
)


def decide_by_trigger(ctx: DecisionContext) -> NextAction:
    if ctx.lead.trigger == "demo_request":
        return NextAction(action="hand_off", stage="decision", reason="asked for a demo")
    if not ctx.lead.may_email:
        return NextAction(action="wait", stage="problem", wait_days=30, reason="no consent")
    return NextAction(action="send_email", stage="problem", query="skills gap", reason="educate")


def fake_draft(ctx: DecisionContext) -> dict[str, Any]:
    name = ctx.lead.first_name or "there"
    return {
        "kind": "email",
        "content": {"subject": f"{name}, a quick skills check", "preview": "Two minutes"},
        "body": f"Hi {name},\n\n{ctx.snippets[0].text}\n",
        "sources": [s.url for s in ctx.snippets],
        "model": "fake",
        "prompt_version": "draft_email@test",
        "prompt_tokens": 120,
        "completion_tokens": 80,
        "cost_usd": 0.0,
        "guardrail_issues": [],
    }


def fake_hand_off(session: Session, brief: LeadBrief, action: NextAction) -> int:
    row = session.exec(
        select(Handoff).where(Handoff.lead_id == brief.lead_id, Handoff.status == "pending")
    ).first()
    if row is None:
        row = Handoff(lead_id=brief.lead_id, reason=action.reason)
        session.add(row)
        session.flush()
    assert row.id is not None
    return row.id


def fake_deps(engine: Engine, *, approve_all: bool = False, **overrides: Any) -> NurtureDeps:
    values: dict[str, Any] = {
        "engine": engine,
        "sender": SENDER,
        "decide": decide_by_trigger,
        "retrieve": lambda brief, action: [SNIPPET],
        "draft": fake_draft,
        "hand_off": fake_hand_off,
        "needs_approval": (lambda brief: True) if approve_all else (lambda brief: False),
        # Wednesday 10:00 UTC: inside the default send window.
        "clock": lambda: datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return NurtureDeps(**values)
