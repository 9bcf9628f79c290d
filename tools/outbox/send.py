"""Sending due touches: queue them, claim a batch with a lease, re-check the guardrails, deliver
each once (email by SMTP or file; videos and SDR steps as tasks), then mark it sent.

A crash at any point loses no touch and sends none twice (see `tools.outbox.transports` for
the one SMTP instant that cannot be closed): a claimed row whose worker died is claimed again
when its lease runs out, and a row that may have gone out is checked against the transport
(the `.eml` file, the SMTP sent log) before anything is resent.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from store.db import session_scope
from store.models import Approval, DeliveryTask, Draft, Lead, OutboxMessage, Touch, utcnow
from tools.bandit.trials import count_sends
from tools.outbox import guard, queue
from tools.outbox.message import ComposeError, Composer, TaskSpec, message_id_for
from tools.outbox.transports import SendError, Transport
from tools.triggers import evaluate
from tools.triggers.effects import stop_lead
from tools.triggers.rules import RuleSet

log = logging.getLogger("nurture.outbox")


def worker_name() -> str:
    """Who holds a lease: host, process and a random suffix (two workers never share one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class _Prepared:
    row_id: int
    touch_id: int
    lead_id: int
    channel: str
    message_id: str
    email: Any = None  # EmailMessage for email touches
    task: TaskSpec | None = None


@dataclass
class Outbox:
    """Sends what is due through `email` (SMTP or file); tasks go to the store."""

    engine: Engine
    email: Transport
    composer: Composer
    policy: guard.SendPolicy = field(default_factory=guard.SendPolicy)
    rules: RuleSet | None = None
    owner: str = field(default_factory=worker_name)
    clock: Callable[[], datetime] = utcnow

    def message_id(self, key: str) -> str:
        return message_id_for(key, self.composer.sender.email)

    def send_due(self, *, limit: int | None = None) -> dict[str, int]:
        """One pass: every due touch (up to `limit`) sent, deferred or cancelled."""
        now = self.clock()
        report: Counter[str] = Counter()
        with session_scope(self.engine) as session:
            report["queued"] = queue.enqueue_due(session, now=now, message_id_of=self.message_id)
            remaining = self._remaining_today(session, now)
            if remaining == 0:
                report["deferred"] += self._defer_to_tomorrow(session, now)
            ids = queue.claim(
                session,
                now=now,
                owner=self.owner,
                lease=self.policy.lease,
                limit=limit or self.policy.batch,
            )
        budget = [remaining]
        try:
            for row_id in ids:
                report[self._send_one(row_id, now, budget)] += 1
        finally:
            self.email.close()
        report["claimed"] = len(ids)
        return {key: value for key, value in report.items() if value}

    # --- one row ------------------------------------------------------------------------

    def _send_one(self, row_id: int, now: datetime, budget: list[int | None]) -> str:
        try:
            with session_scope(self.engine) as session:
                outcome, prepared = self._prepare(session, row_id, now, budget)
            if prepared is None:
                return outcome
            if prepared.email is not None:
                self.email.deliver(prepared.email)
            with session_scope(self.engine) as session:
                return self._mark(session, prepared, now)
        except SendError as exc:
            return self._failed(row_id, exc, now)
        except Exception:  # one broken touch must not stop the batch; its lease will run out
            log.exception("sending outbox row %s failed", row_id)
            return "error"

    def _prepare(
        self, session: Session, row_id: int, now: datetime, budget: list[int | None]
    ) -> tuple[str, _Prepared | None]:
        row = session.get(OutboxMessage, row_id)
        touch = session.get(Touch, row.touch_id) if row else None
        if row is None or touch is None or row.lease_owner != self.owner:
            return "lost", None
        prepared = _Prepared(row_id, int(touch.id or 0), row.lead_id, row.channel, row.message_id)
        is_email = row.channel == "email"
        # A row claimed before may have gone out just before its worker died: ask first.
        if is_email and row.attempts > 1 and self.email.delivered(row.message_id):
            return self._mark(session, prepared, now, recovered=True), None
        lead = session.get(Lead, row.lead_id)
        verdict = guard.check(session, touch=touch, lead=lead, now=now, policy=self.policy)
        if verdict.kind == "cancel":
            queue.cancel(
                session,
                row_id=row_id,
                touch_id=prepared.touch_id,
                owner=self.owner,
                reason=verdict.reason,
            )
            return "cancelled", None
        if verdict.kind == "defer":
            assert verdict.until is not None
            queue.defer(
                session,
                row_id=row_id,
                touch_id=prepared.touch_id,
                owner=self.owner,
                until=verdict.until,
                reason=verdict.reason,
            )
            return "deferred", None
        if is_email and budget[0] is not None:
            if budget[0] <= 0:
                _, tomorrow = guard.day_bounds(now, self.policy.cap_timezone)
                queue.defer(
                    session,
                    row_id=row_id,
                    touch_id=prepared.touch_id,
                    owner=self.owner,
                    until=tomorrow,
                    reason=self._cap_reason(),
                )
                return "deferred", None
            budget[0] -= 1
        assert lead is not None
        draft = session.exec(select(Draft).where(Draft.touch_id == touch.id)).first()
        if draft is None:
            queue.cancel(
                session,
                row_id=row_id,
                touch_id=prepared.touch_id,
                owner=self.owner,
                reason="the touch has no draft",
            )
            return "cancelled", None
        approval = session.exec(select(Approval).where(Approval.draft_id == draft.id)).first()
        try:
            if is_email:
                prepared.email = self.composer.email(
                    touch=touch,
                    lead=lead,
                    draft=draft,
                    approval=approval,
                    message_id=row.message_id,
                    now=now,
                )
            else:
                prepared.task = self.composer.task(
                    touch=touch, lead=lead, draft=draft, approval=approval
                )
        except ComposeError as exc:
            queue.cancel(
                session,
                row_id=row_id,
                touch_id=prepared.touch_id,
                owner=self.owner,
                reason=str(exc),
            )
            return "cancelled", None
        return "ready", prepared

    def _mark(
        self, session: Session, prepared: _Prepared, now: datetime, *, recovered: bool = False
    ) -> str:
        transport = self.email.name if prepared.channel == "email" else "task"
        marked = queue.mark_sent(
            session,
            row_id=prepared.row_id,
            touch_id=prepared.touch_id,
            owner=self.owner,
            transport=transport,
            at=now,
        )
        if not marked:
            log.warning("outbox row %s: lease lost before it was marked sent", prepared.row_id)
            return "lost"
        count_sends(session, touch_id=prepared.touch_id, at=now)  # each variant's trial, once
        if prepared.task is not None:
            spec = prepared.task
            session.add(
                DeliveryTask(
                    touch_id=prepared.touch_id,
                    lead_id=prepared.lead_id,
                    kind=spec.kind,
                    assignee=spec.assignee,
                    title=spec.title,
                    body=spec.body,
                    created_at=now,
                )
            )
        if self.rules is not None:
            evaluate.on_send(
                session,
                lead_id=prepared.lead_id,
                touch_id=prepared.touch_id,
                rules=self.rules,
                now=now,
            )
        return "recovered" if recovered else "sent"

    def _failed(self, row_id: int, exc: SendError, now: datetime) -> str:
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return "lost"
            if exc.permanent:
                queue.fail(
                    session,
                    row_id=row_id,
                    touch_id=row.touch_id,
                    owner=self.owner,
                    reason=str(exc),
                )
                if exc.bounced:
                    # The server refused the address for good: a bounce stops everything.
                    stop_lead(session, lead_id=row.lead_id, why="bounce", now=now)
                return "failed"
            if row.attempts >= self.policy.max_attempts:
                queue.fail(
                    session,
                    row_id=row_id,
                    touch_id=row.touch_id,
                    owner=self.owner,
                    reason=f"gave up after {row.attempts} attempts: {exc}",
                )
                return "failed"
            queue.retry_later(
                session,
                row_id=row_id,
                owner=self.owner,
                error=str(exc),
                until=queue.backoff(row.attempts, now),
            )
            return "retry"

    # --- the daily cap ---------------------------------------------------------------------

    def _remaining_today(self, session: Session, now: datetime) -> int | None:
        cap = self.policy.daily_cap
        if cap <= 0:
            return None
        sent = guard.emails_sent_today(session, now=now, timezone=self.policy.cap_timezone)
        return max(0, cap - sent)

    def _defer_to_tomorrow(self, session: Session, now: datetime) -> int:
        _, tomorrow = guard.day_bounds(now, self.policy.cap_timezone)
        return queue.defer_all_due(session, now=now, until=tomorrow, reason=self._cap_reason())

    def _cap_reason(self) -> str:
        return f"daily cap of {self.policy.daily_cap} emails reached; sent tomorrow"
