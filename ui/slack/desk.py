"""The SDR desk in Slack: post cards, apply decisions from clicks, keep cards true to the store.

Cards (drafts to approve, hand-offs, tasks to do) go to the lead owner's direct messages when
the owner is mapped to a Slack user, else to the SDR channel. A decision is recorded by the
same functions the CLI uses (the first one wins) and the card is then rewritten in place from
the store, so a late or double click only ever shows who decided first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlmodel import Session

from agent.approvals import ApprovalError, decide
from agent.nurture.run import NurtureAgent, Verdict
from agent.runtime import Runtime
from store import slack_cards
from store.db import session_scope
from store.models import Approval, DeliveryTask, Handoff
from store.slack_cards import CardKind
from tools.handoff import HandoffAlreadyDecided, HandoffError, decide_handoff
from tools.outbox.tasks import TaskAlreadyDone, TaskError, complete_task
from ui.slack import blocks
from ui.slack.config import SETTING, SlackConfig
from ui.slack.records import approval_record, handoff_record, task_record
from ui.slack.text import when
from ui.when import plain_when

log = logging.getLogger("nurture.slack")
AgentFactory = Callable[[], AbstractContextManager[NurtureAgent]]
# A claim to post a card that was never completed (a crash, Slack down) is retried after this.
CLAIM_STALE = timedelta(minutes=10)
NOT_ALLOWED = (
    "Sorry, you are not allowed to decide here: only the SDRs and managers listed in "
    f"{SETTING} can approve drafts or take hand-offs. Ask your nurture admin to add your "
    "Slack member ID."
)
WHAT = {"approval": "approval", "handoff": "hand-off", "task": "task"}


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_client(config: SlackConfig) -> WebClient:
    client = WebClient(token=config.bot_token, base_url=config.api_base_url, timeout=15)
    # Slack answers bursts (a backlog of cards) with 429 and Retry-After: wait, then go on.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


class SharedAgent:
    """Opens the nurture agent (model, knowledge base, checkpointer) on first use and keeps it
    for the life of the process: a click should not pay for opening the index again."""

    def __init__(self, opener: AgentFactory) -> None:
        self._opener = opener
        self._lock = threading.Lock()
        self._stack = ExitStack()
        self._agent: NurtureAgent | None = None

    @contextmanager
    def __call__(self) -> Iterator[NurtureAgent]:
        with self._lock:
            if self._agent is None:
                self._agent = self._stack.enter_context(self._opener())
        yield self._agent

    def close(self) -> None:
        self._stack.close()
        self._agent = None


@dataclass(frozen=True)
class Reply:
    """What happened to a click, and what (if anything) to tell the person privately."""

    done: bool
    message: str | None = None


class SlackDesk:
    def __init__(
        self,
        runtime: Runtime,
        config: SlackConfig,
        client: WebClient,
        *,
        agent_factory: AgentFactory | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.client = client
        self.clock = clock
        self.agent_factory = agent_factory or SharedAgent(_wired_agent(runtime))

    # --- reading -------------------------------------------------------------------------

    def record(self, session: Session, kind: CardKind, ref_id: int) -> dict[str, Any] | None:
        if kind == "approval":
            return approval_record(session, ref_id)
        if kind == "task":
            return task_record(session, ref_id)
        return handoff_record(session, ref_id, now=self.clock())

    def load(self, kind: CardKind, ref_id: int) -> dict[str, Any] | None:
        with session_scope(self.runtime.engine) as session:
            return self.record(session, kind, ref_id)

    def destination(self, owner: str | None) -> str | None:
        user = self.config.owner_user(owner)
        return user.user_id if user is not None else self.config.sdr_channel

    # --- cards ---------------------------------------------------------------------------

    def post_card(self, kind: CardKind, ref_id: int, now: datetime) -> str:
        """posted | taken (someone else is posting it) | unroutable | gone | failed"""
        with session_scope(self.runtime.engine) as session:
            record = self.record(session, kind, ref_id)
            if record is None:
                return "gone"
            channel = self.destination(record["lead"].get("owner"))
            if channel is None:
                return "unroutable"
            claim = slack_cards.claim_card(
                session, kind=kind, ref_id=ref_id, now=now, stale_before=now - CLAIM_STALE
            )
            if claim is None or claim.id is None:
                return "taken"
            card_id = claim.id
        text, content = render(kind, record)
        try:
            posted = self.client.chat_postMessage(
                channel=channel, text=text, blocks=content, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as exc:
            error = _slack_error(exc)
            log.warning("could not post the %s card %s to %s: %s", kind, ref_id, channel, error)
            with session_scope(self.runtime.engine) as session:
                slack_cards.record_error(session, card_id=card_id, error=error)
            return "failed"
        with session_scope(self.runtime.engine) as session:
            slack_cards.record_posted(
                session,
                card_id=card_id,
                channel=str(posted["channel"]),
                ts=str(posted["ts"]),
                at=now,
            )
            if not waiting(kind, record):  # decided while we were posting
                slack_cards.mark_once(session, card_id=card_id, field="closed_at", at=now)
        return "posted"

    def refresh_card(self, kind: CardKind, ref_id: int) -> bool:
        """Rewrite the card from the store (decided: who, when, what happens next)."""
        with session_scope(self.runtime.engine) as session:
            card = slack_cards.card_for(session, kind=kind, ref_id=ref_id)
            record = self.record(session, kind, ref_id)
        if card is None or card.id is None or card.ts is None or card.channel is None:
            return False
        if record is None:
            return False
        text, content = render(kind, record)
        try:
            self.client.chat_update(channel=card.channel, ts=card.ts, text=text, blocks=content)
        except SlackApiError as exc:
            log.warning("could not update the %s card %s: %s", kind, ref_id, _slack_error(exc))
            return False
        if not waiting(kind, record):
            with session_scope(self.runtime.engine) as session:
                slack_cards.mark_once(session, card_id=card.id, field="closed_at", at=self.clock())
        return True

    def card_channel(self, kind: CardKind, ref_id: int) -> str | None:
        with session_scope(self.runtime.engine) as session:
            card = slack_cards.card_for(session, kind=kind, ref_id=ref_id)
            return card.channel if card else None

    def tell(self, channel: str | None, user_id: str, text: str) -> None:
        """A message only this person sees, in the conversation where they clicked."""
        if not channel:
            log.info("no channel to tell %s: %s", user_id, text)
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        except SlackApiError as exc:
            log.warning("could not tell %s in %s: %s", user_id, channel, _slack_error(exc))

    # --- decisions -----------------------------------------------------------------------

    def pending_or_reply(self, kind: CardKind, ref_id: int) -> tuple[dict[str, Any] | None, Reply]:
        """The record when it still waits for a decision; else what to tell the clicker."""
        record = self.load(kind, ref_id)
        if record is None:
            return None, Reply(False, f"There is no {WHAT[kind]} #{ref_id} any more.")
        if not waiting(kind, record):
            self.refresh_card(kind, ref_id)
            return None, Reply(False, already_text(kind, record))
        return record, Reply(True)

    def decide_draft(
        self,
        approval_id: int,
        user_id: str,
        status: str,
        *,
        reason: str | None = None,
        subject: str | None = None,
        body: str | None = None,
    ) -> Reply:
        """Record the verdict (first click wins), resume the lead's paused thread, update the
        card. A double click or a later SDR is told who decided; nothing is applied twice."""
        if not self.config.may_decide(user_id):
            return Reply(False, NOT_ALLOWED)
        record, reply = self.pending_or_reply("approval", approval_id)
        if record is None:
            return reply
        verdict = Verdict(
            status=status, by=self.config.label(user_id), reason=reason, subject=subject, body=body
        )
        try:
            with self.agent_factory() as agent:
                outcome = decide(self.runtime.engine, agent, approval_id, verdict)
        except ApprovalError as exc:
            return Reply(False, str(exc))
        except Exception as exc:  # the verdict may be recorded; the card shows what the store says
            log.exception("applying the verdict on approval %s failed", approval_id)
            return Reply(False, self._failed_text(approval_id, exc))
        finally:
            self.refresh_card("approval", approval_id)
        if outcome.already_decided:
            stored = self.load("approval", approval_id)
            return Reply(False, already_text("approval", stored) if stored else None)
        return Reply(True)

    def _failed_text(self, approval_id: int, exc: Exception) -> str:
        with session_scope(self.runtime.engine) as session:
            approval = session.get(Approval, approval_id)
            recorded = approval is not None and approval.status != "pending"
        if recorded:
            return (
                f"Your decision on approval #{approval_id} is recorded, but the lead's next step "
                f"could not run yet ({type(exc).__name__}); it is finished on the next agent run."
            )
        return (
            f"Nothing was recorded for approval #{approval_id}: {type(exc).__name__}. "
            "Try again in a minute, or use `nurture approvals` from the command line."
        )

    def decide_handoff(
        self,
        handoff_id: int,
        user_id: str,
        decision: str,
        *,
        reason: str | None = None,
        note: str | None = None,
    ) -> Reply:
        """Accept or reject a hand-off once; a rejection feeds scoring as a rejected MQL."""
        if not self.config.may_decide(user_id):
            return Reply(False, NOT_ALLOWED)
        try:
            with session_scope(self.runtime.engine) as session:
                decide_handoff(
                    session,
                    handoff_id,
                    decision,
                    self.config.label(user_id),
                    reason,
                    note=note,
                    now=self.clock(),
                )
        except HandoffAlreadyDecided:
            stored = self.load("handoff", handoff_id)
            return Reply(False, already_text("handoff", stored) if stored else None)
        except HandoffError as exc:
            return Reply(False, str(exc))
        finally:
            self.refresh_card("handoff", handoff_id)
        return Reply(True)

    def complete_task(self, task_id: int, user_id: str) -> Reply:
        """Mark a delivered task done once (the first click wins) and show it on the card."""
        if not self.config.may_decide(user_id):
            return Reply(False, NOT_ALLOWED)
        try:
            with session_scope(self.runtime.engine) as session:
                complete_task(session, task_id, self.config.label(user_id), now=self.clock())
        except TaskAlreadyDone:
            stored = self.load("task", task_id)
            return Reply(False, already_text("task", stored) if stored else None)
        except TaskError as exc:
            return Reply(False, str(exc))
        finally:
            self.refresh_card("task", task_id)
        return Reply(True)

    def is_pending(self, kind: CardKind, ref_id: int) -> bool:
        """Whether it still waits for a person (a decision, or a task to be done)."""
        with session_scope(self.runtime.engine) as session:
            row: Approval | Handoff | DeliveryTask | None
            if kind == "approval":
                row = session.get(Approval, ref_id)
            elif kind == "task":
                row = session.get(DeliveryTask, ref_id)
            else:
                row = session.get(Handoff, ref_id)
            return row is not None and waiting(kind, {"status": row.status})


def waiting(kind: CardKind, record: dict[str, Any]) -> bool:
    """A card keeps its buttons while this holds: pending decisions, open tasks."""
    return record["status"] == ("open" if kind == "task" else "pending")


def render(kind: CardKind, record: dict[str, Any]) -> tuple[str, blocks.Blocks]:
    if kind == "approval":
        return blocks.approval_card(record)
    if kind == "task":
        return blocks.task_card(record)
    return blocks.handoff_card(record)


def already_text(kind: CardKind, record: dict[str, Any], *, plain: bool = False) -> str:
    """The reply to a click on something already decided: who, what and when (`plain` for
    modal errors, which show no Slack dates)."""
    if kind == "task":
        stamp = plain_when(record.get("done_at_dt")) if plain else when(record.get("done_at_dt"))
        return (
            f"This task (#{record['id']}) was already done by {record.get('done_by')} {stamp}; "
            "nothing changed."
        )
    if kind == "approval":
        _, word = blocks.VERDICT_WORDS.get(record["status"], ("", record["status"]))
        who, at = record.get("decided_by"), record.get("decided_at_dt")
        what = f"This draft (approval #{record['id']})"
    else:
        _, word = blocks.VERDICT_WORDS.get(record["status"], ("", "Rejected"))
        who, at = record.get("sdr"), record.get("decided_at_dt")
        what = f"This hand-off (#{record['id']})"
    stamp = plain_when(at) if plain else when(at)
    return f"{what} was already {word.lower()} by {who} {stamp}; nothing changed."


def _slack_error(exc: SlackApiError) -> str:
    response = getattr(exc, "response", None)
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return str(exc).splitlines()[0]


def _wired_agent(runtime: Runtime) -> AgentFactory:
    def opener() -> AbstractContextManager[NurtureAgent]:
        from agent.wiring import nurture_agent  # the model and index load only when needed

        return nurture_agent(runtime)

    return opener
