"""Shared set-up for trigger, outbox and worker tests: leads, events, touches with drafts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from agent import ingest
from store.db import session_scope
from store.models import Draft, Lead, Touch, TouchStatus, TriggerFiring
from tools.outbox.message import Composer
from tools.triggers.rules import RuleSet, load_rules

# Wednesday 10:00 UTC: inside the default weekday 09:00-17:00 window in UTC and in Kolkata.
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)


def add_lead(engine: Engine, email: str = "ana@acme.example", **fields: Any) -> int:
    values: dict[str, Any] = {"first_name": "Ana", "company": "Acme", "timezone": "UTC"}
    values.update(fields)
    with session_scope(engine) as s:
        lead = Lead(email=email, **values)
        s.add(lead)
        s.flush()
        assert lead.id is not None
        return lead.id


def event(lead_id: int, kind: str, at: datetime, **props: Any) -> dict[str, Any]:
    return {
        "source_event_id": f"e-{next(_ids)}",
        "lead_id": lead_id,
        "type": kind,
        "properties": props,
        "occurred_at": at,
        "source": "test",
    }


def write(engine: Engine, *rows: dict[str, Any], rules: RuleSet | None = None) -> int:
    return ingest.write_events(engine, list(rows), rules=rules or load_rules())


def firings(engine: Engine, lead_id: int | None = None) -> list[TriggerFiring]:
    with session_scope(engine) as s:
        stmt = select(TriggerFiring).order_by(col(TriggerFiring.id))
        if lead_id is not None:
            stmt = stmt.where(TriggerFiring.lead_id == lead_id)
        return list(s.exec(stmt))


def add_touch(
    engine: Engine,
    lead_id: int,
    *,
    due_at: datetime | None = WEDNESDAY,
    channel: str = "email",
    status: TouchStatus = TouchStatus.approved,
    subject: str = "Ana, a quick skills check",
    body: str | None = None,
    html: str | None = None,
    sent_at: datetime | None = None,
) -> int:
    with session_scope(engine) as s:
        touch = Touch(
            lead_id=lead_id,
            channel=channel,
            status=status,
            idempotency_key=f"test:{lead_id}:{next(_ids)}",
            due_at=due_at,
            sent_at=sent_at,
        )
        s.add(touch)
        s.flush()
        s.add(
            Draft(
                touch_id=touch.id,
                lead_id=lead_id,
                kind="video_script" if channel == "video" else "email",
                subject=subject,
                body=body or "Hi Ana,\n\nMap the skills your next role needs.\n",
                html=html,
            )
        )
        assert touch.id is not None
        return touch.id


def touch_of(engine: Engine, touch_id: int) -> Touch:
    with session_scope(engine) as s:
        touch = s.get(Touch, touch_id)
        assert touch is not None
        return touch


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def composer() -> Composer:
    from tests.nurture_fakes import SENDER

    return Composer(sender=SENDER, public_url="http://127.0.0.1:8080", secret="s3cret-for-tests")
