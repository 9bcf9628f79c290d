"""Slack hand-offs and timers end to end: accept, reject with a reason code (a rejected-MQL
label for scoring), SLA reminder and breach escalation, approval reminder and escalation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from store.db import session_scope
from store.models import (
    Approval,
    Draft,
    Lead,
    LifecycleStage,
    OutboxMessage,
    Outcome,
    Touch,
    TouchStatus,
)
from tests.slack_setup import (
    MONDAY_9,
    SDR_CHANNEL,
    Served,
    approval,
    buttons,
    card_row,
    handoff,
    open_handoff,
    paused_draft,
    served_slack,
    set_created,
)
from tests.slack_stub import Call, click, interactive, submission
from tools.handoff import REJECT_REASONS
from ui.slack import slack_reminders


@pytest.fixture
def served(engine: Engine, tmp_path: Path) -> Iterator[Served]:
    with served_slack(engine, tmp_path) as served:
        yield served


def upkeep(served: Served, now: datetime) -> dict:
    return slack_reminders(served.runtime, now, client=served.desk.client)


def press(served: Served, action: str, handoff_id: int, user: str) -> None:
    row = card_row(served.engine, "handoff", handoff_id)
    assert row.channel and row.ts
    payload = click(action, handoff_id, user, channel=row.channel, message_ts=row.ts)
    assert interactive(served.url, payload).status_code == 200


def card_update(served: Served, handoff_id: int, count: int = 1) -> list[Call]:
    ts = card_row(served.engine, "handoff", handoff_id).ts
    return served.stub.wait_for("chat.update", lambda c: c.args.get("ts") == ts, count=count)


def thread_replies(served: Served, kind: str, ref_id: int) -> list[Call]:
    ts = card_row(served.engine, kind, ref_id).ts
    return [c for c in served.stub.of("chat.postMessage") if c.args.get("thread_ts") == ts]


def direct_messages(served: Served, user: str) -> list[Call]:
    return [c for c in served.stub.of("chat.postMessage") if c.args.get("channel") == user]


def lead_of(engine: Engine, handoff_id: int) -> Lead:
    with session_scope(engine) as s:
        lead = s.get(Lead, handoff(engine, handoff_id).lead_id)
        assert lead is not None
        return lead


def test_a_handoff_card_then_accept(served: Served) -> None:
    handoff_id = open_handoff(served, first_name="Ana", last_name="Silva", email="ana@b.example")
    served.clock[0] = MONDAY_9 + timedelta(hours=2)  # the SDR clicks at 11:00
    result = upkeep(served, served.clock[0])
    assert result["handoff_cards_posted"] == 1
    [card] = served.stub.of("chat.postMessage")
    assert card.args["channel"] == SDR_CHANNEL
    text = card.text()
    stored = handoff(served.engine, handoff_id)
    assert "Hand-off: Ana Silva" in text and "asked for a call back" in text
    assert "*Opening:* Hi Ana" in text  # the talk track, in Slack's bold
    assert "Discovery questions" in text
    assert "Mon 23 Nov 13:00 UTC" in text and "(4 business hours)" in text
    assert stored.sla_due_at is not None and stored.sla_due_at.hour == 13
    assert buttons(card) == {"accept_handoff": str(handoff_id), "reject_handoff": str(handoff_id)}

    press(served, "accept_handoff", handoff_id, "U0SDR1")
    [update] = card_update(served, handoff_id)
    assert "Accepted* by Asha Rao (U0SDR1)" in update.text() and "within the SLA" in update.text()
    assert buttons(update) == {}
    stored = handoff(served.engine, handoff_id)
    assert (stored.status, stored.sdr, stored.within_sla) == ("accepted", "Asha Rao (U0SDR1)", True)
    assert stored.latency_s == pytest.approx(2 * 3600)
    assert lead_of(served.engine, handoff_id).lifecycle_stage == LifecycleStage.sql

    # Accepting again (a double click): told who took it, nothing changes.
    press(served, "accept_handoff", handoff_id, "U0SDR2")
    [told] = served.stub.wait_for("chat.postEphemeral", lambda c: c.args["user"] == "U0SDR2")
    assert "already accepted by Asha Rao (U0SDR1)" in told.text()
    assert handoff(served.engine, handoff_id).sdr == "Asha Rao (U0SDR1)"


def test_reject_a_handoff_with_a_reason_code_feeds_scoring(served: Served) -> None:
    handoff_id = open_handoff(served, owner="asha")
    served.clock[0] = MONDAY_9 + timedelta(hours=5)  # after the SLA ran out at 13:00
    upkeep(served, MONDAY_9 + timedelta(hours=1))
    [card] = served.stub.of("chat.postMessage")
    assert card.args["channel"] == "U0SDR1"  # the owner's direct messages
    press(served, "reject_handoff", handoff_id, "U0SDR1")
    [opened] = served.stub.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "reject_handoff"
    assert all(label[:75] in opened.text() for label in REJECT_REASONS.values())
    sent = interactive(
        served.url,
        submission(opened, "U0SDR1", {"reason": {"option": "no_budget"}, "note": "next year"}),
    )
    assert sent.status_code == 200
    [update] = card_update(served, handoff_id)
    assert "Rejected* by Asha Rao (U0SDR1)" in update.text()
    assert "no budget or funding (next year)" in update.text()
    assert "after the SLA ran out" in update.text()
    stored = handoff(served.engine, handoff_id)
    assert (stored.status, stored.reject_reason, stored.within_sla) == (
        "rejected",
        "no_budget",
        False,
    )
    with session_scope(served.engine) as s:
        [label] = s.exec(select(Outcome).where(Outcome.lead_id == stored.lead_id)).all()
    assert (label.kind, label.reason) == ("rejected_mql", "no_budget: next year")


def test_sla_reminder_before_the_breach_and_escalation_on_it(served: Served) -> None:
    handoff_id = open_handoff(served, owner="asha")  # due Monday 13:00
    upkeep(served, MONDAY_9 + timedelta(minutes=5))
    assert thread_replies(served, "handoff", handoff_id) == []

    result = upkeep(served, MONDAY_9 + timedelta(hours=3, minutes=30))  # 30 min before
    assert result["handoffs_reminded"] == 1
    [reminder] = thread_replies(served, "handoff", handoff_id)
    assert reminder.text().startswith(":alarm_clock: <@U0SDR1> the SLA for this hand-off")
    assert (
        upkeep(served, MONDAY_9 + timedelta(hours=3, minutes=40)).get("handoffs_reminded") is None
    )

    result = upkeep(served, MONDAY_9 + timedelta(hours=4, minutes=10))  # breached
    assert result["handoffs_escalated"] == 1
    [to_manager] = direct_messages(served, "U0MGR1")
    assert "SLA breached" in to_manager.text() and "Ravi Kumar" in to_manager.text()
    assert "nurture-test.slack.com/archives/D0SDR1/p" in to_manager.text()  # a link to the card
    note = thread_replies(served, "handoff", handoff_id)[-1]
    assert "Escalated to <@U0MGR1>" in note.text()
    [refreshed] = card_update(served, handoff_id)  # the SLA field shows the breach
    assert ":red_circle: overdue" in refreshed.text() and buttons(refreshed)
    assert upkeep(served, MONDAY_9 + timedelta(hours=6)).get("handoffs_escalated") is None
    assert handoff(served.engine, handoff_id).status == "pending"  # escalation decides nothing


def test_an_unanswered_draft_is_reminded_then_escalated_and_never_sent(served: Served) -> None:
    _, approval_id = paused_draft(served)
    set_created(served.engine, Approval, approval_id, MONDAY_9)
    upkeep(served, MONDAY_9 + timedelta(hours=1))  # the card, no reminder yet
    assert thread_replies(served, "approval", approval_id) == []

    result = upkeep(served, MONDAY_9 + timedelta(hours=5))  # 5 business hours
    assert result["approvals_reminded"] == 1
    [reminder] = thread_replies(served, "approval", approval_id)
    assert "has waited 5 business hours" in reminder.text()
    assert "It will not be sent until someone approves" in reminder.text()
    assert upkeep(served, MONDAY_9 + timedelta(hours=6)).get("approvals_reminded") is None

    assert upkeep(served, MONDAY_9 + timedelta(hours=7)).get("approvals_escalated") is None
    # Monday 17:00 to Tuesday 09:00 is not business time: Tuesday 10:00 is 9 business hours.
    result = upkeep(served, MONDAY_9 + timedelta(hours=25))
    assert result["approvals_escalated"] == 1
    [to_manager] = direct_messages(served, "U0MGR1")
    assert "has waited 9 business hours without a decision" in to_manager.text()
    assert "Open the card" in to_manager.text()
    assert "Escalated to <@U0MGR1>" in thread_replies(served, "approval", approval_id)[-1].text()
    assert upkeep(served, MONDAY_9 + timedelta(days=7)).get("approvals_escalated") is None

    assert approval(served.engine, approval_id).status == "pending"
    draft_id = approval(served.engine, approval_id).draft_id
    with session_scope(served.engine) as s:
        draft = s.get(Draft, draft_id)
        touch = s.get(Touch, draft.touch_id) if draft else None
        assert touch is not None and touch.status == TouchStatus.drafted
        assert s.exec(select(OutboxMessage)).all() == []


def test_without_a_manager_the_escalation_says_whom_to_add(engine: Engine, tmp_path: Path) -> None:
    users = '{"U0SDR1": {"name": "Asha Rao", "role": "sdr", "owner": "asha"}}'
    with served_slack(engine, tmp_path, NURTURE_SLACK_USERS=users) as served:
        handoff_id = open_handoff(served)
        result = upkeep(served, MONDAY_9 + timedelta(hours=5))
        assert result["handoffs_escalated"] == 1
        [note] = thread_replies(served, "handoff", handoff_id)
        assert "No manager to escalate to: add one to NURTURE_SLACK_USERS" in note.text()


def test_a_rate_limited_post_waits_and_goes_through(served: Served) -> None:
    _, approval_id = paused_draft(served)
    served.stub.throttle["chat.postMessage"] = 1
    assert upkeep(served, MONDAY_9)["approval_cards_posted"] == 1
    assert [c.method for c in served.stub.calls] == ["chat.postMessage", "chat.postMessage"]
    assert card_row(served.engine, "approval", approval_id).ts is not None


def test_a_refused_post_is_retried_on_a_later_pass(served: Served) -> None:
    _, approval_id = paused_draft(served)
    served.stub.fail["chat.postMessage"] = "channel_not_found"
    result = upkeep(served, MONDAY_9)
    assert result["approval_cards_failed"] == 1
    assert card_row(served.engine, "approval", approval_id).last_error == "channel_not_found"
    del served.stub.fail["chat.postMessage"]
    assert upkeep(served, MONDAY_9 + timedelta(minutes=1)).get("approval_cards_posted") is None
    assert upkeep(served, MONDAY_9 + timedelta(minutes=11))["approval_cards_posted"] == 1
    row = card_row(served.engine, "approval", approval_id)
    assert row.ts is not None and row.last_error is None
