"""The periodic Slack pass: post missing cards (drafts to approve, hand-offs, delivery tasks),
mirror decisions and tasks done elsewhere, remind and escalate. The worker (or `nurture slack
remind`) calls `slack_reminders(runtime, now)`.

Nothing here ever decides: a draft nobody approves is never sent, however long it waits.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.runtime import Runtime
from store import slack_cards
from store.db import session_scope
from store.models import SlackCard
from store.slack_cards import CardKind, Mark
from tools.handoff import SlaPolicy, handoffs_needing_attention
from tools.outbox.tasks import KIND_LABELS
from ui.slack.config import SETTING, SlackConfig, load_slack_config
from ui.slack.desk import CLAIM_STALE, SlackDesk, make_client, waiting
from ui.slack.text import escape, when

log = logging.getLogger("nurture.slack")
KINDS: tuple[CardKind, ...] = ("approval", "handoff", "task")


def slack_reminders(
    runtime: Runtime, now: datetime | None = None, *, client: WebClient | None = None
) -> dict[str, Any]:
    """One pass of Slack upkeep; returns what it did. Without SLACK_BOT_TOKEN it does nothing
    (the CLI and the web queue still work). A bad user map raises SlackConfigError."""
    config = load_slack_config(runtime.settings)
    if not config.can_post:
        return {"enabled": False, "reason": "SLACK_BOT_TOKEN is not set"}
    moment = now or datetime.now(UTC)
    # Cards show SLA states as of this pass's moment.
    desk = SlackDesk(runtime, config, client or make_client(config), clock=lambda: moment)
    return {"enabled": True, **SlackUpkeep(desk).run(moment)}


class SlackUpkeep:
    def __init__(self, desk: SlackDesk) -> None:
        self.desk = desk
        self.config: SlackConfig = desk.config
        self.hours = SlaPolicy(hours=1, timezone=self.config.business_timezone)
        self.counts: Counter[str] = Counter()

    def run(self, now: datetime) -> dict[str, int]:
        self.post_missing(now)
        self.mirror_decisions()
        self.approval_reminders(now)
        self.handoff_reminders(now)
        self.task_reminders(now)
        return dict(self.counts)

    def post_missing(self, now: datetime) -> None:
        """A card for every pending approval, open hand-off and open task that has none yet."""
        for kind in KINDS:
            with session_scope(self.desk.runtime.engine) as session:
                ids = slack_cards.unposted(session, kind=kind, stale_before=now - CLAIM_STALE)
            for ref_id in ids:
                result = self.desk.post_card(kind, ref_id, now)
                self.counts[f"{kind}_cards_{result}"] += 1

    def mirror_decisions(self) -> None:
        """Cards still showing buttons for something decided or done elsewhere (CLI, web, a
        crash between recording and updating): rewrite them."""
        for kind in KINDS:
            with session_scope(self.desk.runtime.engine) as session:
                cards = slack_cards.open_cards(session, kind=kind)
            for card in cards:
                decided = not self.desk.is_pending(kind, card.ref_id)
                if decided and self.desk.refresh_card(kind, card.ref_id):
                    self.counts[f"{kind}_cards_updated"] += 1

    # --- approvals -----------------------------------------------------------------------

    def approval_reminders(self, now: datetime) -> None:
        def remind(record: dict[str, Any], waited: float) -> str:
            who = self._owner_mention(record["lead"].get("owner"))
            return (
                f":alarm_clock: {who}this draft for *{_name(record)}* has waited {waited:g} "
                "business hours for a decision. It will not be sent until someone approves, "
                "edits or rejects it; managers are told after "
                f"{self.config.approval_escalate_hours:g} hours."
            )

        def escalate(record: dict[str, Any], waited: float) -> str:
            return (
                f":rotating_light: The draft for *{_name(record)}* has waited {waited:g} "
                "business hours without a decision. It will not be sent until someone approves, "
                "edits or rejects it."
            )

        self._nudge(
            "approval", now, since="created_at_dt", remind_after=self.config.approval_remind_hours,
            escalate_after=self.config.approval_escalate_hours, remind=remind, escalate=escalate,
        )  # fmt: skip

    # --- hand-offs -----------------------------------------------------------------------

    def handoff_reminders(self, now: datetime) -> None:
        with session_scope(self.desk.runtime.engine) as session:
            attention = handoffs_needing_attention(
                session, now=now, warn_hours=self.config.handoff_remind_hours
            )
            due_soon = [h.id for h in attention["due_soon"] if h.id is not None]
            breached = [h.id for h in attention["breached"] if h.id is not None]
            cards = {c.ref_id: c for c in slack_cards.open_cards(session, kind="handoff")}
        for handoff_id in due_soon:
            card = cards.get(handoff_id)
            record = self.desk.load("handoff", handoff_id)
            if card is None or record is None or card.reminded_at is not None:
                continue
            who = self._owner_mention(record["lead"].get("owner"))
            text = (
                f":alarm_clock: {who}the SLA for this hand-off of "
                f"*{escape(record['lead']['name'])}* runs out {when(record['sla_due_at_dt'])}. "
                "Accept or reject it on the card."
            )
            if self._once(card, "reminded_at", now, partial(self._thread, card, text)):
                self.counts["handoffs_reminded"] += 1
        for handoff_id in breached:
            card = cards.get(handoff_id)
            record = self.desk.load("handoff", handoff_id)
            if card is None or record is None or card.escalated_at is not None:
                continue
            text = (
                f":rotating_light: SLA breached: the hand-off of "
                f"*{escape(record['lead']['name'])}* was due {when(record['sla_due_at_dt'])} "
                "and nobody has accepted or rejected it."
            )
            if self._escalate(card, text, now):
                self._mark(card, "reminded_at", now)
                self.desk.refresh_card("handoff", handoff_id)  # the SLA field shows the breach
                self.counts["handoffs_escalated"] += 1

    # --- delivery tasks ------------------------------------------------------------------

    def task_reminders(self, now: datetime) -> None:
        """A video or SDR step still open past its due time: the assignee is reminded in the
        card's thread, later the managers are told (the lead has heard nothing meanwhile)."""

        def what(record: dict[str, Any]) -> str:
            return f"{KIND_LABELS.get(record['kind'], 'task')} for *{_name(record)}*"

        def remind(record: dict[str, Any], late: float) -> str:
            who = self._owner_mention(record.get("assignee") or record["lead"].get("owner"))
            return (
                f":alarm_clock: {who}this {what(record)} was due {late:g} business hours ago. "
                "Press Done on the card once it is done; managers are told after "
                f"{self.config.task_escalate_hours:g} hours."
            )

        def escalate(record: dict[str, Any], late: float) -> str:
            return (
                f":rotating_light: The {what(record)} is still not done, {late:g} business "
                "hours after it was due. The lead hears nothing from this step until it is."
            )

        self._nudge(
            "task", now, since="due_at_dt", remind_after=self.config.task_remind_hours,
            escalate_after=self.config.task_escalate_hours, remind=remind, escalate=escalate,
        )  # fmt: skip

    def _nudge(
        self,
        kind: CardKind,
        now: datetime,
        *,
        since: str,
        remind_after: float,
        escalate_after: float,
        remind: Callable[[dict[str, Any], float], str],
        escalate: Callable[[dict[str, Any], float], str],
    ) -> None:
        """Cards of `kind` still waiting for someone: after `remind_after` business hours since
        the record's `since` a reminder in the card's thread, after `escalate_after` the
        managers; each once."""
        with session_scope(self.desk.runtime.engine) as session:
            cards = slack_cards.open_cards(session, kind=kind)
        for card in cards:
            record = self.desk.load(kind, card.ref_id)
            if record is None or not waiting(kind, record):
                continue
            hours = self.hours.business_hours(record[since], now)
            if hours >= escalate_after and card.escalated_at is None:
                if self._escalate(card, escalate(record, hours), now):
                    self._mark(card, "reminded_at", now)
                    self.counts[f"{kind}s_escalated"] += 1
            elif hours >= remind_after and card.reminded_at is None:
                thread = partial(self._thread, card, remind(record, hours))
                if self._once(card, "reminded_at", now, thread):
                    self.counts[f"{kind}s_reminded"] += 1

    # --- sending -------------------------------------------------------------------------

    def _escalate(self, card: SlackCard, text: str, now: datetime) -> bool:
        """DM every manager with a link to the card, and say so in the card's thread."""

        def send() -> None:
            managers = self.config.managers
            if not managers:
                self._thread(
                    card,
                    f"{text}\nNo manager to escalate to: add one to {SETTING} with role manager.",
                )
                return
            permalink = self._permalink(card)
            link = f" <{permalink}|Open the card>." if permalink else ""
            for manager in managers:
                self.desk.client.chat_postMessage(
                    channel=manager.user_id, text=f"{text}{link}", unfurl_links=False
                )
            mentions = ", ".join(f"<@{m.user_id}>" for m in managers)
            self._thread(card, f"{text}\nEscalated to {mentions}.")

        return self._once(card, "escalated_at", now, send)

    def _once(self, card: SlackCard, field: Mark, now: datetime, send: Any) -> bool:
        """Mark first (so two passes never both send), send, and unmark if Slack refused."""
        assert card.id is not None
        with session_scope(self.desk.runtime.engine) as session:
            if not slack_cards.mark_once(session, card_id=card.id, field=field, at=now):
                return False
        try:
            send()
        except SlackApiError as exc:
            log.warning("Slack refused a %s message: %s", field, exc)
            with session_scope(self.desk.runtime.engine) as session:
                slack_cards.unmark(session, card_id=card.id, field=field)
            self.counts["failed"] += 1
            return False
        return True

    def _mark(self, card: SlackCard, field: Mark, now: datetime) -> None:
        assert card.id is not None
        with session_scope(self.desk.runtime.engine) as session:
            slack_cards.mark_once(session, card_id=card.id, field=field, at=now)

    def _thread(self, card: SlackCard, text: str) -> None:
        assert card.channel is not None
        self.desk.client.chat_postMessage(
            channel=card.channel, thread_ts=card.ts, text=text, unfurl_links=False
        )

    def _permalink(self, card: SlackCard) -> str | None:
        if card.channel is None or card.ts is None:
            return None
        try:
            found = self.desk.client.chat_getPermalink(channel=card.channel, message_ts=card.ts)
        except SlackApiError:
            return None
        return str(found.get("permalink") or "") or None

    def _owner_mention(self, owner: str | None) -> str:
        user = self.config.owner_user(owner)
        return f"<@{user.user_id}> " if user else ""


def _name(record: dict[str, Any]) -> str:
    return escape(record["lead"]["name"])
