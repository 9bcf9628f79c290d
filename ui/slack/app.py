"""The Bolt app in HTTP mode: each listener acks within Slack's 3 seconds, then works lazily
(resuming the agent, writing the store, updating the card) in a thread of its own."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from ui.slack.blocks import (
    ACCEPT_HANDOFF,
    APPROVE,
    DRAFT_REJECT_REASONS,
    EDIT,
    EDIT_VIEW,
    REJECT,
    REJECT_HANDOFF,
    REJECT_HANDOFF_VIEW,
    REJECT_VIEW,
    TASK_DONE,
    edit_modal,
    reject_draft_modal,
    reject_handoff_modal,
)
from ui.slack.desk import NOT_ALLOWED, Reply, SlackDesk, already_text
from ui.slack.summary import summary_text

log = logging.getLogger("nurture.slack")
Body = dict[str, Any]
ACCEPTED = "nurture_submission_accepted"


def build_bolt_app(desk: SlackDesk, executor: Executor | None = None) -> App:
    """Bolt over the desk's client and signing secret; requests are verified (signature and
    timestamp) before any listener runs. Lazy work runs on `executor`."""
    app = App(
        client=desk.client,
        signing_secret=desk.config.signing_secret,
        process_before_response=True,
        # auth.test runs on the first verified request instead of at start-up, so a Slack
        # outage never stops `nurture serve` from starting.
        token_verification_enabled=False,
        name="nurture",
        logger=log,
        listener_executor=executor,
    )
    listen = Listeners(desk)
    app.action(APPROVE)(ack=ack_now, lazy=[listen.approve])
    app.action(EDIT)(ack=ack_now, lazy=[listen.open_edit])
    app.action(REJECT)(ack=ack_now, lazy=[listen.open_reject])
    app.action(ACCEPT_HANDOFF)(ack=ack_now, lazy=[listen.accept_handoff])
    app.action(REJECT_HANDOFF)(ack=ack_now, lazy=[listen.open_reject_handoff])
    app.action(TASK_DONE)(ack=ack_now, lazy=[listen.task_done])
    app.view(EDIT_VIEW)(ack=listen.check_edit, lazy=[listen.save_edit])
    app.view(REJECT_VIEW)(ack=listen.check_reject, lazy=[listen.save_reject])
    app.view(REJECT_HANDOFF_VIEW)(
        ack=listen.check_reject_handoff, lazy=[listen.save_reject_handoff]
    )
    app.event("app_mention")(ack=ack_now, lazy=[listen.mention])
    app.error(listen.error)
    return app


def ack_now(ack: Ack) -> None:
    ack()


class Listeners:
    def __init__(self, desk: SlackDesk) -> None:
        self.desk = desk

    # --- buttons -------------------------------------------------------------------------

    def approve(self, body: Body) -> None:
        self._answer(body, lambda user, ref: self.desk.decide_draft(ref, user, "approved"))

    def accept_handoff(self, body: Body) -> None:
        self._answer(body, lambda user, ref: self.desk.decide_handoff(ref, user, "accepted"))

    def task_done(self, body: Body) -> None:
        self._answer(body, lambda user, ref: self.desk.complete_task(ref, user))

    def open_edit(self, body: Body) -> None:
        self._open_modal(body, "approval", edit_modal)

    def open_reject(self, body: Body) -> None:
        self._open_modal(body, "approval", reject_draft_modal)

    def open_reject_handoff(self, body: Body) -> None:
        self._open_modal(body, "handoff", reject_handoff_modal)

    def _answer(self, body: Body, act: Callable[[str, int], Reply]) -> None:
        user, ref_id = _user(body), _ref_id(body)
        if ref_id is None:
            return
        reply = act(user, ref_id)
        if reply.message:
            self.desk.tell(_channel(body), user, reply.message)

    def _open_modal(
        self, body: Body, kind: Any, build: Callable[[dict[str, Any], dict[str, Any]], Body]
    ) -> None:
        user, ref_id, channel = _user(body), _ref_id(body), _channel(body)
        if ref_id is None:
            return
        if not self.desk.config.may_decide(user):
            self.desk.tell(channel, user, NOT_ALLOWED)
            return
        record, reply = self.desk.pending_or_reply(kind, ref_id)
        if record is None:
            self.desk.tell(channel, user, reply.message or "")
            return
        metadata = {"kind": kind, "id": ref_id, "channel": channel}
        try:
            self.desk.client.views_open(trigger_id=body["trigger_id"], view=build(record, metadata))
        except SlackApiError as exc:  # e.g. the trigger expired while the server was busy
            log.warning("could not open the %s form for %s: %s", kind, ref_id, exc)
            self.desk.tell(channel, user, "The form could not open in time; click again.")

    # --- modal submissions -----------------------------------------------------------------

    # Bolt starts the lazy listener whatever the ack said: the ack marks the submissions it
    # accepted in the request context, and the lazy listener acts on those alone.

    def check_edit(self, ack: Ack, body: Body, view: Body, context: BoltContext) -> None:
        values = _values(view)
        if not (values.get("body") or "").strip():
            ack(response_action="errors", errors={"body": "Write the message, or cancel."})
            return
        self._check(ack, body, view, context, "body")

    def check_reject(self, ack: Ack, body: Body, view: Body, context: BoltContext) -> None:
        self._check_reason(ack, body, view, context)

    def check_reject_handoff(self, ack: Ack, body: Body, view: Body, context: BoltContext) -> None:
        self._check_reason(ack, body, view, context)

    def _check_reason(self, ack: Ack, body: Body, view: Body, context: BoltContext) -> None:
        values = _values(view)
        if values.get("reason") == "other" and not (values.get("note") or "").strip():
            ack(response_action="errors", errors={"note": "Say why in a few words."})
            return
        self._check(ack, body, view, context, "reason")

    def _check(self, ack: Ack, body: Body, view: Body, context: BoltContext, field: str) -> None:
        """Refuse in the modal itself when the person may not decide or it is already done."""
        meta = _metadata(view)
        if meta.get("kind") not in ("approval", "handoff") or not isinstance(meta.get("id"), int):
            ack(response_action="errors", errors={field: "Out of date: click the card again."})
            return
        user = _user(body)
        if not self.desk.config.may_decide(user):
            ack(response_action="errors", errors={field: "Only mapped SDRs and managers decide."})
            return
        if not self.desk.is_pending(meta["kind"], int(meta["id"])):
            record = self.desk.load(meta["kind"], int(meta["id"]))
            said = already_text(meta["kind"], record, plain=True) if record else "It is gone."
            ack(response_action="errors", errors={field: said})
            return
        context[ACCEPTED] = True
        ack()

    def save_edit(self, body: Body, view: Body, context: BoltContext) -> None:
        if not context.get(ACCEPTED):
            return
        meta, values = _metadata(view), _values(view)
        approval_id = int(meta["id"])
        record = self.desk.load("approval", approval_id)
        subject = (values.get("subject") or "").strip() or None
        text = (values.get("body") or "").strip()
        unchanged = record is not None and (
            subject == (record["draft"].get("subject") or None)
            and text == (record["draft"].get("body") or "").strip()
        )
        if unchanged:  # saved without a change: a plain approval, not an edit
            reply = self.desk.decide_draft(approval_id, _user(body), "approved")
        else:
            reply = self.desk.decide_draft(
                approval_id, _user(body), "edited", subject=subject, body=text
            )
        self._tell_after_modal(body, meta, reply)

    def save_reject(self, body: Body, view: Body, context: BoltContext) -> None:
        if not context.get(ACCEPTED):
            return
        meta, values = _metadata(view), _values(view)
        code = values.get("reason") or "other"
        note = (values.get("note") or "").strip()
        reason = f"{code}: {note}" if note else f"{code}: {DRAFT_REJECT_REASONS.get(code, code)}"
        reply = self.desk.decide_draft(int(meta["id"]), _user(body), "rejected", reason=reason)
        self._tell_after_modal(body, meta, reply)

    def save_reject_handoff(self, body: Body, view: Body, context: BoltContext) -> None:
        if not context.get(ACCEPTED):
            return
        meta, values = _metadata(view), _values(view)
        reply = self.desk.decide_handoff(
            int(meta["id"]),
            _user(body),
            "rejected",
            reason=values.get("reason"),
            note=(values.get("note") or "").strip() or None,
        )
        self._tell_after_modal(body, meta, reply)

    def _tell_after_modal(self, body: Body, meta: dict[str, Any], reply: Reply) -> None:
        if reply.message:
            channel = meta.get("channel") or self.desk.card_channel(meta["kind"], int(meta["id"]))
            self.desk.tell(channel, _user(body), reply.message)

    # --- events ----------------------------------------------------------------------------

    def mention(self, event: Body) -> None:
        """`@nurture` in a channel: what is waiting for the SDRs right now."""
        text = summary_text(self.desk)
        self.desk.client.chat_postMessage(
            channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=text
        )

    def error(self, error: Exception, body: Body) -> None:
        log.error("Slack request failed: %s (%s)", error, body.get("type"), exc_info=error)


def _user(body: Body) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _channel(body: Body) -> str | None:
    channel = (body.get("channel") or {}).get("id")
    return channel or (body.get("container") or {}).get("channel_id")


def _ref_id(body: Body) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        log.warning("a Slack action without an id: %s", body.get("actions"))
        return None


def _metadata(view: Body) -> dict[str, Any]:
    meta = json.loads(view.get("private_metadata") or "{}")
    return meta if isinstance(meta, dict) else {}


def _values(view: Body) -> dict[str, str | None]:
    """Each input block's value: typed text, or the picked option's value."""
    out: dict[str, str | None] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        element = (actions or {}).get("value") or {}
        picked = element.get("selected_option")
        out[block_id] = picked.get("value") if picked else element.get("value")
    return out
