"""Running the nurture graph: one lead, every lead that is due, and resuming after a verdict."""

from __future__ import annotations

import logging
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, Durability
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from agent.nurture.actions import fail_run, thread_id_of
from agent.nurture.deps import NurtureDeps
from agent.nurture.graph import build_nurture_graph
from agent.nurture.state import NurtureState
from store.db import session_scope
from store.models import (
    AgentRun,
    Enrollment,
    Event,
    Handoff,
    Lead,
    LifecycleStage,
    Score,
    SegmentMembership,
)
from tools.triggers.steps import refresh_step_times

log = logging.getLogger("nurture.agent")
# Each step's checkpoint is written before the next step starts: the strongest resume point,
# and faster here than writing it on a background thread that contends for the interpreter.
DURABILITY: Durability = "sync"
OPEN_STAGES = (LifecycleStage.lead, LifecycleStage.mql)
# Customers, disqualified and opted-out leads (tools/segments/segments.yaml).
EXCLUDED = "excluded"
STATE_KEYS = tuple(NurtureState.__annotations__)


def initial_state(
    lead_id: int, run_key: str, trigger: str | None, hint: dict[str, Any] | None = None
) -> NurtureState:
    """A fresh pass: every key reset, since a lead's thread keeps the last pass's values."""
    state: dict[str, Any] = dict.fromkeys(STATE_KEYS)
    state.update(lead_id=lead_id, run_key=run_key, trigger=trigger, hint=hint, snippets=[])
    state["guardrail_issues"] = []
    return state  # type: ignore[return-value]


@dataclass
class Verdict:
    """A human's decision on a draft, from Slack, the web queue or the CLI."""

    status: str  # approved | edited | rejected
    by: str
    reason: str | None = None
    subject: str | None = None
    body: str | None = None

    def as_resume(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class NurtureAgent:
    """The per-lead graph over a durable checkpointer: one thread per lead."""

    def __init__(self, deps: NurtureDeps, checkpointer: BaseCheckpointSaver) -> None:
        self.deps = deps
        self.graph = build_nurture_graph(deps, checkpointer)

    def _config(self, lead_id: int) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id_of(lead_id)}}

    def run_lead(
        self, lead_id: int, *, trigger: str | None = None, hint: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One pass for this lead; a pass cut short by a crash is finished first. `hint` (a
        trigger's) steers a send; without one, a due sequence step gives its own."""
        config = self._config(lead_id)
        snapshot = self.graph.get_state(config)
        if snapshot.interrupts:
            return {"lead_id": lead_id, "result": "awaiting_approval", "skipped": True}
        if snapshot.next:
            # A pass was cut short (crash, kill): finish it before starting another.
            self.graph.invoke(None, config, durability=DURABILITY)
        run_key = f"{thread_id_of(lead_id)}:{uuid.uuid4().hex[:12]}"
        config = {**config, "callbacks": self.deps.run_callbacks()}
        state = initial_state(lead_id, run_key, trigger, hint)
        try:
            final = self.graph.invoke(state, config, durability=DURABILITY)
        except Exception as exc:
            with session_scope(self.deps.engine) as session:
                fail_run(
                    session,
                    state=state,
                    error=f"{type(exc).__name__}: {exc}",
                    now=self.deps.clock(),
                )
            raise
        return summary(final)

    def resume(self, lead_id: int, verdict: Verdict) -> dict[str, Any]:
        """Continue the lead's paused pass with the human's verdict (any process, any day)."""
        config = self._config(lead_id)
        snapshot = self.graph.get_state(config)
        if not snapshot.interrupts:
            return {"lead_id": lead_id, "result": "not_waiting"}
        final = self.graph.invoke(
            Command(resume=verdict.as_resume()), config, durability=DURABILITY
        )
        return summary(final)

    def run_due(
        self,
        *,
        limit: int | None = None,
        now: datetime | None = None,
        lock: AbstractContextManager[Any] = nullcontext(),
    ) -> list[dict[str, Any]]:
        """Every due lead, hottest first (new events, wake-up times, sequence steps that came
        due); one lead's failure is recorded, not fatal. `lock` is held for each pass (the
        worker's trigger actions share the agent)."""
        now = now or self.deps.clock()
        with session_scope(self.deps.engine) as session:
            refresh_step_times(session, now=now)
            lead_ids = due_lead_ids(session, now=now, limit=limit)
        results = []
        for lead_id in lead_ids:
            try:
                with lock:
                    results.append(self.run_lead(lead_id))
            except Exception as exc:  # a bad lead or a broken model must not stop the rest
                log.exception("nurture pass failed for lead %s", lead_id)
                results.append({"lead_id": lead_id, "result": "failed", "reason": str(exc)})
        return results


def summary(state: dict[str, Any]) -> dict[str, Any]:
    action = state.get("action") or {}
    return {
        "lead_id": state.get("lead_id"),
        "result": state.get("result")
        or ("awaiting_approval" if state.get("approval_id") else None),
        "action": action.get("action"),
        "stage": action.get("stage"),
        "reason": action.get("reason"),
        "touch_id": state.get("touch_id"),
        "draft_id": state.get("draft_id"),
        "approval_id": state.get("approval_id"),
        "handoff_id": state.get("handoff_id"),
    }


def due_lead_ids(session: Session, *, now: datetime, limit: int | None = None) -> list[int]:
    """Open leads never run, whose wake-up time has come, with events since their last pass, or
    whose sequence step came due since, highest score first.

    Leads waiting for a human (a draft in approval, an open hand-off) are not due.
    """
    last_run = (
        select(
            col(AgentRun.lead_id).label("lead_id"),
            func.max(AgentRun.started_at).label("started_at"),
        )
        .group_by(col(AgentRun.lead_id))
        .subquery()
    )
    pending_check = (
        select(col(AgentRun.lead_id))
        .where(col(AgentRun.next_check_at) <= now)
        .where(
            col(AgentRun.started_at)
            == select(last_run.c.started_at)
            .where(last_run.c.lead_id == AgentRun.lead_id)
            .scalar_subquery()
        )
    )
    new_events = (
        select(col(Event.lead_id))
        .join(last_run, last_run.c.lead_id == Event.lead_id)
        .where(col(Event.received_at) > last_run.c.started_at)
    )
    # A sequence step came due after the lead's last pass (or it never had one).
    step_due = (
        select(col(Enrollment.lead_id))
        .outerjoin(last_run, last_run.c.lead_id == Enrollment.lead_id)
        .where(Enrollment.status == "active", col(Enrollment.next_step_at) <= now)
        .where(
            or_(
                last_run.c.started_at.is_(None),
                last_run.c.started_at < col(Enrollment.next_step_at),
            )
        )
    )
    waiting = select(col(AgentRun.lead_id)).where(AgentRun.status == "awaiting_approval")
    open_handoff = select(col(Handoff.lead_id)).where(Handoff.status == "pending")
    excluded = select(col(SegmentMembership.lead_id)).where(
        SegmentMembership.segment == EXCLUDED, col(SegmentMembership.exited_at).is_(None)
    )
    latest_score = (
        select(col(Score.lead_id).label("lead_id"), func.max(Score.id).label("id"))
        .group_by(col(Score.lead_id))
        .subquery()
    )
    stmt = (
        select(col(Lead.id))
        .outerjoin(last_run, last_run.c.lead_id == Lead.id)
        .outerjoin(latest_score, latest_score.c.lead_id == Lead.id)
        .outerjoin(Score, col(Score.id) == latest_score.c.id)
        .where(col(Lead.lifecycle_stage).in_(OPEN_STAGES))
        .where(
            or_(
                last_run.c.lead_id.is_(None),
                col(Lead.id).in_(pending_check),
                col(Lead.id).in_(new_events),
                col(Lead.id).in_(step_due),
            )
        )
        .where(col(Lead.id).not_in(waiting), col(Lead.id).not_in(open_handoff))
        .where(col(Lead.id).not_in(excluded))
        # Hottest first: when the run is cut short, the best leads were served.
        .order_by(col(Score.score).desc().nulls_last(), col(Lead.id))
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [int(i) for i in session.exec(stmt) if i is not None]
