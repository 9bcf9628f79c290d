"""Slack approvals end to end: signed requests over HTTP to the served app, the Slack Web API
on a local stub, decisions through the store and the paused agent thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent.nurture.run import NurtureAgent
from store import crud
from store.db import session_scope
from store.models import AgentRun, Draft, OutboxMessage, Touch, TouchStatus
from tests.slack_setup import (
    SDR_CHANNEL,
    Served,
    agent_over,
    approval,
    buttons,
    card_row,
    paused_draft,
    served_slack,
)
from tests.slack_stub import Call, click, event, interactive, mention, submission
from ui.slack import slack_reminders
from ui.slack.desk import NOT_ALLOWED


@pytest.fixture
def served(engine: Engine, tmp_path: Path) -> Iterator[Served]:
    with served_slack(engine, tmp_path) as served:
        yield served


def post_cards(served: Served) -> dict:
    return slack_reminders(served.runtime, served.clock[0], client=served.desk.client)


def posted_card(served: Served, approval_id: int) -> Call:
    result = post_cards(served)
    assert result["approval_cards_posted"] >= 1
    [card] = [
        c
        for c in served.stub.of("chat.postMessage")
        if buttons(c).get("approve_draft") == str(approval_id)
    ]
    return card


def press(served: Served, action: str, approval_id: int, user: str) -> httpx.Response:
    row = card_row(served.engine, "approval", approval_id)
    assert row.channel and row.ts
    payload = click(action, approval_id, user, channel=row.channel, message_ts=row.ts)
    return interactive(served.url, payload)


def update_of(served: Served, approval_id: int, count: int = 1) -> list[Call]:
    ts = card_row(served.engine, "approval", approval_id).ts
    return served.stub.wait_for("chat.update", lambda c: c.args.get("ts") == ts, count=count)


def touch_of(engine: Engine, approval_id: int) -> Touch:
    with session_scope(engine) as s:
        draft = s.exec(select(Draft).where(Draft.id == approval(engine, approval_id).draft_id))
        touch = s.get(Touch, draft.one().touch_id)
        assert touch is not None
        return touch


def test_the_card_shows_the_lead_the_reasons_and_the_draft(served: Served) -> None:
    lead_id, approval_id = paused_draft(served)
    card = posted_card(served, approval_id)
    assert card.args["channel"] == SDR_CHANNEL
    text = card.text()
    with session_scope(served.engine) as s:
        score = crud.latest_score(s, lead_id=lead_id)
        segments = crud.current_segments(s, lead_id=lead_id)
        draft = s.exec(select(Draft).where(Draft.lead_id == lead_id)).one()
    assert score is not None and score.decile is not None
    assert "Ravi Kumar" in text and "VP Sales at Acme Analytics" in text
    assert f"{score.score:.0f} · decile {score.decile}" in text
    for factor in score.factors:  # why this lead, as scoring explained it
        assert str(factor.get("factor", factor)) in text
    for segment in segments:
        assert f"`{segment}`" in text
    assert "viewed pricing" in text  # the trigger
    assert draft.subject and draft.subject in text
    first_line = draft.body.splitlines()[0]
    assert f"> {first_line}" in text
    assert all(url in text for url in draft.sources)
    assert buttons(card) == {
        "approve_draft": str(approval_id),
        "edit_draft": str(approval_id),
        "reject_draft": str(approval_id),
    }
    # Posted once: the next pass finds the card and posts nothing.
    assert post_cards(served).get("approval_cards_posted", 0) == 0
    assert len(served.stub.of("chat.postMessage")) == 1


def test_approve_resumes_the_thread_and_updates_the_card(served: Served) -> None:
    lead_id, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    answer = press(served, "approve_draft", approval_id, "U0SDR1")
    assert answer.status_code == 200  # the ack; the work follows lazily
    [update] = update_of(served, approval_id)
    assert "Approved* by Asha Rao (U0SDR1)" in update.text()
    assert "Scheduled to send" in update.text()
    assert buttons(update) == {}
    stored = approval(served.engine, approval_id)
    assert (stored.status, stored.decided_by) == ("approved", "Asha Rao (U0SDR1)")
    touch = touch_of(served.engine, approval_id)
    assert touch.status == TouchStatus.approved and touch.due_at is not None
    with session_scope(served.engine) as s:
        run = s.exec(select(AgentRun).where(AgentRun.lead_id == lead_id)).one()
    assert (run.status, run.reason) == ("done", "scheduled: educate")
    with agent_over(served.engine, served.checkpoints) as agent:  # the thread is not paused
        assert not agent.graph.get_state(agent._config(lead_id)).interrupts
    assert card_row(served.engine, "approval", approval_id).closed_at is not None


def test_edit_opens_a_modal_and_saving_approves_the_edited_text(served: Served) -> None:
    _, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    assert press(served, "edit_draft", approval_id, "U0SDR2").status_code == 200
    [opened] = served.stub.wait_for("views.open")
    assert opened.args["trigger_id"] == f"{approval_id}.U0SDR2.trigger"
    view = opened.args["view"]
    assert view["callback_id"] == "edit_draft"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    original = touch_of(served.engine, approval_id)
    with session_scope(served.engine) as s:
        draft = s.exec(select(Draft).where(Draft.touch_id == original.id)).one()
    assert inputs["subject"]["initial_value"] == draft.subject
    assert inputs["body"]["initial_value"] == draft.body
    edited_body = "Hi Ravi,\n\nA shorter note, in my own words.\n"
    # An empty body is refused inside the modal.
    empty = interactive(
        served.url, submission(opened, "U0SDR2", {"subject": "Ravi, pricing", "body": " "})
    )
    assert empty.json()["response_action"] == "errors" and "body" in empty.json()["errors"]
    saved = interactive(
        served.url,
        submission(opened, "U0SDR2", {"subject": "Ravi, about pricing", "body": edited_body}),
    )
    assert saved.status_code == 200 and not saved.content  # the modal closes
    [update] = update_of(served, approval_id)
    assert "Approved with edits* by Ben Ortiz (U0SDR2)" in update.text()
    assert "Ravi, about pricing" in update.text()
    stored = approval(served.engine, approval_id)
    assert stored.status == "edited"
    assert (stored.edited_subject, stored.edited_body) == (
        "Ravi, about pricing",
        edited_body.strip(),
    )
    assert touch_of(served.engine, approval_id).status == TouchStatus.approved


def test_reject_with_a_reason_never_sends(served: Served) -> None:
    _, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    press(served, "reject_draft", approval_id, "U0SDR1")
    [opened] = served.stub.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "reject_draft"
    assert "off-brand tone or style" in opened.text()
    # "other" needs a note.
    bare = interactive(served.url, submission(opened, "U0SDR1", {"reason": {"option": "other"}}))
    assert bare.json() == {
        "response_action": "errors",
        "errors": {"note": "Say why in a few words."},
    }
    done = interactive(
        served.url,
        submission(
            opened, "U0SDR1", {"reason": {"option": "off_brand"}, "note": "Too pushy for a VP"}
        ),
    )
    assert done.status_code == 200
    [update] = update_of(served, approval_id)
    assert "Rejected* by Asha Rao (U0SDR1)" in update.text()
    assert "off_brand: Too pushy for a VP" in update.text()
    assert "It will not be sent." in update.text()
    stored = approval(served.engine, approval_id)
    assert (stored.status, stored.reason) == ("rejected", "off_brand: Too pushy for a VP")
    touch = touch_of(served.engine, approval_id)
    assert touch.status == TouchStatus.skipped
    with session_scope(served.engine) as s:
        assert s.exec(select(OutboxMessage)).all() == []


def test_a_double_click_and_a_late_second_sdr_decide_nothing_twice(served: Served) -> None:
    lead_id, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    answers: list[int] = []
    clicks = [
        threading.Thread(
            target=lambda: answers.append(
                press(served, "approve_draft", approval_id, "U0SDR1").status_code
            )
        )
        for _ in range(2)
    ]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert answers == [200, 200]
    # One wins; the other is told privately (or, arriving later, sees the decided card).
    update_of(served, approval_id)
    stored = approval(served.engine, approval_id)
    assert (stored.status, stored.decided_by) == ("approved", "Asha Rao (U0SDR1)")
    # A second SDR, later, tries to reject: told who decided, no modal, nothing changes.
    press(served, "reject_draft", approval_id, "U0SDR2")
    [told] = served.stub.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == "U0SDR2")
    assert "already approved by Asha Rao (U0SDR1)" in told.text()
    assert told.args["channel"] == SDR_CHANNEL
    assert served.stub.of("views.open") == []
    with session_scope(served.engine) as s:
        runs = s.exec(select(AgentRun).where(AgentRun.lead_id == lead_id)).all()
        touches = s.exec(select(Touch).where(Touch.lead_id == lead_id)).all()
    assert [r.reason for r in runs] == ["scheduled: educate"] and len(touches) == 1
    assert approval(served.engine, approval_id).status == "approved"


def test_someone_not_mapped_may_not_decide(served: Served) -> None:
    _, approval_id = paused_draft(served)
    card = posted_card(served, approval_id)
    for action in ("approve_draft", "edit_draft", "reject_draft"):
        assert press(served, action, approval_id, "U0STRANGER").status_code == 200
    told = served.stub.wait_for(
        "chat.postEphemeral", lambda c: c.args.get("user") == "U0STRANGER", count=3
    )
    assert all(c.args["text"] == NOT_ALLOWED for c in told)
    assert served.stub.of("views.open") == [] and served.stub.of("chat.update") == []
    assert approval(served.engine, approval_id).status == "pending"
    assert card.args["channel"] == SDR_CHANNEL


def test_a_card_goes_to_the_owners_direct_messages(served: Served) -> None:
    _, approval_id = paused_draft(served, owner="asha")
    card = posted_card(served, approval_id)
    assert card.args["channel"] == "U0SDR1"
    # The card is updated where it lives: the direct-message conversation Slack answered with.
    assert card_row(served.engine, "approval", approval_id).channel == "D0SDR1"
    press(served, "approve_draft", approval_id, "U0SDR1")
    [update] = update_of(served, approval_id)
    assert update.args["channel"] == "D0SDR1"


def test_a_decision_made_elsewhere_updates_the_card(served: Served) -> None:
    from agent.approvals import decide
    from agent.nurture.run import Verdict

    _, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    with agent_over(served.engine, served.checkpoints) as agent:  # `nurture approvals reject`
        decide(served.engine, agent, approval_id, Verdict("rejected", by="cli:ops", reason="dup"))
    result = post_cards(served)
    assert result["approval_cards_updated"] == 1
    [update] = update_of(served, approval_id)
    assert "Rejected* by cli:ops" in update.text()
    assert post_cards(served).get("approval_cards_updated", 0) == 0


def test_mentioning_the_app_says_what_is_waiting(served: Served) -> None:
    paused_draft(served)
    assert event(served.url, mention("U0SDR1", SDR_CHANNEL, "what's waiting?")).status_code == 200
    [reply] = served.stub.wait_for("chat.postMessage", lambda c: "thread_ts" in c.args)
    assert "*1* draft(s) waiting for approval" in reply.text()
    assert "*0* open hand-off(s)" in reply.text()


def test_the_ack_does_not_wait_for_the_agent(served: Served) -> None:
    """Slack needs the ack within 3 s: the response comes before the lazy work is done."""
    started = threading.Event()
    release = threading.Event()
    opener = served.desk.agent_factory

    def slow_agent() -> AbstractContextManager[NurtureAgent]:
        started.set()
        release.wait(30)
        return opener()

    served.desk.agent_factory = slow_agent
    _, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    answer = press(served, "approve_draft", approval_id, "U0SDR1")
    assert answer.status_code == 200
    assert started.wait(30)  # the lazy listener is running and holding the agent
    assert approval(served.engine, approval_id).status == "pending"
    release.set()
    update_of(served, approval_id)  # the card is rewritten after the verdict is recorded
    assert approval(served.engine, approval_id).status == "approved"


def test_a_form_that_cannot_open_says_so(served: Served) -> None:
    _, approval_id = paused_draft(served)
    posted_card(served, approval_id)
    served.stub.fail["views.open"] = "expired_trigger_id"
    press(served, "edit_draft", approval_id, "U0SDR1")
    [told] = served.stub.wait_for("chat.postEphemeral")
    assert told.args["text"] == "The form could not open in time; click again."
    assert approval(served.engine, approval_id).status == "pending"
