"""Acting on trigger firings that are due: hand a lead off, or run the agent with the trigger
and its hint (after a follow-up's silence check, or when a pause ends).

One action per lead per pass: when several rules fired for a lead, the strongest (first in the
rules file) acts and the others are recorded as merged into it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.nurture.run import NurtureAgent
from store.db import session_scope
from store.models import Event, Lead, Touch, TriggerFiring, utcnow
from tools.brief import lead_brief
from tools.handoff import HandoffError
from tools.schemas import NextAction
from tools.senders import NEXT, SETTING, as_header
from tools.triggers.rules import RuleSet

log = logging.getLogger("nurture.triggers")
CLOSED = ("sql", "customer", "disqualified")


@dataclass
class FiringRunner:
    """Runs due firings through the agent (its hand-off step and its graph)."""

    engine: Engine
    agent: NurtureAgent
    rules: RuleSet
    clock: Callable[[], datetime] = utcnow

    def run_due(self, *, limit: int = 200) -> dict[str, int]:
        now = self.clock()
        with session_scope(self.engine) as session:
            due = list(
                session.exec(
                    select(TriggerFiring)
                    .where(TriggerFiring.status == "pending", col(TriggerFiring.due_at) <= now)
                    .order_by(col(TriggerFiring.due_at), col(TriggerFiring.id))
                    .limit(limit)
                )
            )
        by_lead: dict[int, list[TriggerFiring]] = {}
        for firing in due:
            by_lead.setdefault(firing.lead_id, []).append(firing)
        report: dict[str, int] = {}
        for lead_id, firings in by_lead.items():
            firings.sort(key=lambda f: (self.rules.rank(f.rule), f.id or 0))
            status, result = self._act(lead_id, firings[0], now)
            self._finish(firings[0], status, result)
            for other in firings[1:]:
                self._finish(other, "done", f"merged into firing {firings[0].id} ({result})")
            report[status] = report.get(status, 0) + 1
        return report

    def _act(self, lead_id: int, firing: TriggerFiring, now: datetime) -> tuple[str, str]:
        try:
            with session_scope(self.engine) as session:
                lead = session.get(Lead, lead_id)
                if lead is None:
                    return "skipped", "the lead no longer exists"
                if str(lead.lifecycle_stage) in CLOSED:
                    return "skipped", f"the lead is {lead.lifecycle_stage}"
                noise = _broke_silence(session, firing)
                if noise:
                    return "skipped", f"not silent: {noise}"
                if firing.action == "hand_off":
                    return "done", self._hand_off(session, lead_id, firing)
            if firing.action in ("run_agent", "pause"):
                return "done", self._run_agent(lead_id, firing)
            return "skipped", f"nothing to do for {firing.action}"
        except Exception as exc:  # one lead's failure must not stop the others
            log.exception("trigger firing %s failed", firing.id)
            return "failed", f"{type(exc).__name__}: {exc}"

    def _hand_off(self, session: Session, lead_id: int, firing: TriggerFiring) -> str:
        params = firing.params or {}
        reason = str(params.get("reason") or f"Trigger {firing.rule}")
        brief = lead_brief(session, lead_id=lead_id)
        brief = brief.model_copy(update={"trigger": firing.event_type})
        action = NextAction(action="hand_off", stage="decision", reason=reason)
        try:
            handoff_id = self.agent.deps.hand_off(session, brief, action)
        except (HandoffError, ValueError) as exc:
            return f"no hand-off: {exc}"
        return f"handed off (hand-off {handoff_id})"

    def _run_agent(self, lead_id: int, firing: TriggerFiring) -> str:
        params = firing.params or {}
        rule = next((r for r in self.rules.rules if r.name == firing.rule), None)
        hint: dict[str, Any] = {
            **(params.get("hint") or {}),
            "source": "trigger",
            "rule": firing.rule,
            "event_type": firing.event_type,
            "reason": f"(Trigger {firing.rule}: {rule.description if rule else firing.rule})",
        }
        outcome = self.agent.run_lead(lead_id, trigger=params.get("trigger"), hint=hint)
        words = [str(outcome.get("result") or "ran")]
        if outcome.get("action"):
            words.append(f"{outcome['action']} at the {outcome.get('stage')} stage")
        if outcome.get("touch_id"):
            words.append(f"touch {outcome['touch_id']}")
        if hint.get("sender") == NEXT:
            words.append(self._sender_note(lead_id, outcome.get("touch_id")))
        return ", ".join(words)

    def _sender_note(self, lead_id: int, touch_id: Any) -> str:
        """Whether the sender changed as the rule asked: who signs now, or why nobody new."""
        if not self.agent.deps.alt_senders:
            log.info(
                "lead %s: the rule asks for another sender but %s lists none; only the "
                "angle changes",
                lead_id,
                SETTING,
            )
            return f"same sender: no colleague in {SETTING}, only the angle changes"
        with session_scope(self.engine) as session:
            touch = session.get(Touch, int(touch_id)) if touch_id else None
            if touch is not None and touch.sender:
                return f"from {touch.sender}"
            sender = self.agent.deps.sender_for(session, lead_id, self.clock())
        return f"next touches from {as_header(sender)}"

    def _finish(self, firing: TriggerFiring, status: str, result: str) -> None:
        with session_scope(self.engine) as session:
            row = session.get(TriggerFiring, firing.id)
            if row is None or row.status != "pending":
                return  # a stop cancelled it meanwhile
            row.status, row.result, row.done_at = status, result[:2000], utcnow()
            session.add(row)


def _broke_silence(session: Session, firing: TriggerFiring) -> str | None:
    """For a follow-up: what the lead did between the event and now, if anything."""
    params = firing.params or {}
    if "silent_on" not in params or firing.event_at is None:
        return None
    stmt = select(Event.type, Event.occurred_at).where(
        Event.lead_id == firing.lead_id,
        col(Event.occurred_at) > firing.event_at,
        col(Event.occurred_at) <= firing.due_at,
    )
    kinds = list(params.get("silent_on") or [])
    if kinds:
        stmt = stmt.where(col(Event.type).in_(kinds))
    if firing.source_event_id:
        stmt = stmt.where(col(Event.source_event_id) != firing.source_event_id)
    hit = session.exec(stmt.order_by(col(Event.occurred_at)).limit(1)).first()
    if hit is None:
        return None
    kind, at = hit
    return f"{kind} on {at:%Y-%m-%d}"
