"""Delivery tasks in Slack end to end: the outbox delivers a video or an SDR step as a task, the
periodic pass posts it once (to the owner's direct messages or the SDR channel), a signed click
on Done marks it done in the store, and a task done elsewhere is mirrored on its card."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from store.db import session_scope
from store.models import DeliveryTask
from tests.slack_setup import SDR_CHANNEL, Served, buttons, card_row, served_slack
from tests.slack_stub import Call, click, event, interactive, mention, running_stub
from tests.trigger_helpers import WEDNESDAY, add_lead, add_touch, composer
from tools.outbox.guard import SendPolicy
from tools.outbox.send import Outbox
from tools.outbox.tasks import complete_task
from tools.outbox.transports import FileTransport
from ui.slack import slack_reminders
from ui.slack.config import load_slack_config
from ui.slack.desk import NOT_ALLOWED, make_client

SCRIPT = "Hi Ana, I'm Priya from X Education.\nHere is what the data track covers in week one."


@pytest.fixture
def served(engine: Engine, tmp_path: Path) -> Iterator[Served]:
    with served_slack(engine, tmp_path) as served:
        yield served


def deliver(served: Served, tmp_path: Path) -> dict[str, int]:
    """The real outbox: due video and SDR touches become delivery tasks in the store."""
    outbox = Outbox(
        engine=served.engine,
        email=FileTransport(tmp_path / "outbox"),
        composer=composer(),
        policy=SendPolicy(daily_cap=0),
        clock=lambda: WEDNESDAY,
    )
    return outbox.send_due()


def upkeep(served: Served) -> dict:
    return slack_reminders(served.runtime, served.clock[0], client=served.desk.client)


def task_of(engine: Engine, touch_id: int) -> DeliveryTask:
    with session_scope(engine) as s:
        return s.exec(select(DeliveryTask).where(DeliveryTask.touch_id == touch_id)).one()


def card_for(served: Served, task_id: int) -> Call:
    [card] = [
        c for c in served.stub.of("chat.postMessage") if buttons(c).get("task_done") == str(task_id)
    ]
    return card


def press_done(served: Served, task_id: int, user: str) -> httpx.Response:
    row = card_row(served.engine, "task", task_id)
    assert row.channel and row.ts
    return interactive(
        served.url, click("task_done", task_id, user, channel=row.channel, message_ts=row.ts)
    )


def updates_of(served: Served, task_id: int) -> list[Call]:
    ts = card_row(served.engine, "task", task_id).ts
    return [c for c in served.stub.of("chat.update") if c.args.get("ts") == ts]


def test_a_delivered_video_is_posted_to_its_owner_and_done_from_the_card(
    served: Served, tmp_path: Path
) -> None:
    lead = add_lead(served.engine, last_name="Silva", owner="asha", role="Data analyst")
    touch = add_touch(served.engine, lead, channel="video", subject="Your first week", body=SCRIPT)
    assert upkeep(served).get("task_cards_posted") is None  # nothing delivered yet
    assert deliver(served, tmp_path)["sent"] == 1
    task = task_of(served.engine, touch)
    assert task.id is not None and task.status == "open"

    assert upkeep(served)["task_cards_posted"] == 1
    card = card_for(served, task.id)
    assert card.args["channel"] == "U0SDR1"  # Asha owns the lead: her direct messages
    text = card.text()
    assert "Record a personal video for Ana" in text
    assert "*Ana Silva* · Data analyst at Acme · ana@acme.example" in text
    assert "*Title:* Your first week\n*Script*" in text
    assert "> Here is what the data track covers in week one." in text
    assert "Wed 25 Nov 2026 10:00 UTC" in text  # due: the touch's slot
    assert card.args["text"] == "Video to record for Ana Silva (Acme), due Wed 25 Nov 10:00 UTC"
    assert buttons(card) == {"task_done": str(task.id)}

    # Someone who is not on the SDR team cannot close it.
    assert press_done(served, task.id, "U0STRANGER").status_code == 200
    [refused] = served.stub.wait_for("chat.postEphemeral")
    assert refused.args["text"] == NOT_ALLOWED
    assert task_of(served.engine, touch).status == "open"

    served.clock[0] = WEDNESDAY + timedelta(hours=2)
    assert press_done(served, task.id, "U0SDR1").status_code == 200
    [update] = served.stub.wait_for("chat.update")
    assert "Done* by Asha Rao (U0SDR1)" in update.text()
    assert buttons(update) == {}
    done = task_of(served.engine, touch)
    assert (done.status, done.done_by) == ("done", "Asha Rao (U0SDR1)")
    assert done.done_at is not None and done.done_at.hour == 12
    # The card is marked closed right after Slack answered the update.
    deadline = time.monotonic() + 30
    while card_row(served.engine, "task", task.id).closed_at is None:
        assert time.monotonic() < deadline, "the card was never marked closed"
        time.sleep(0.05)

    # A colleague's late click: told who did it, nothing changes.
    assert press_done(served, task.id, "U0SDR2").status_code == 200
    [told] = served.stub.wait_for("chat.postEphemeral", lambda c: c.args["user"] == "U0SDR2")
    assert "already done by Asha Rao (U0SDR1)" in told.text()
    assert task_of(served.engine, touch).done_by == "Asha Rao (U0SDR1)"


def test_an_sdr_step_goes_to_the_channel_once_even_across_restarts(
    served: Served, tmp_path: Path
) -> None:
    lead = add_lead(served.engine, "bo@acme.example", first_name="Bo")  # no owner
    touch = add_touch(
        served.engine, lead, channel="sdr_task", subject="Ready to talk?", body="Hi Bo, ..."
    )
    deliver(served, tmp_path)
    task = task_of(served.engine, touch)
    assert task.id is not None
    first = upkeep(served)
    assert first["task_cards_posted"] == 1
    card = card_for(served, task.id)
    assert card.args["channel"] == SDR_CHANNEL
    assert "Reach out to Bo: Ready to talk?" in card.text()
    assert "*About:* Ready to talk?\n*Suggested message (say it your way)*" in card.text()
    assert "Reach out in person: a call or a note" in card.text()

    assert upkeep(served).get("task_cards_posted") is None
    # A restarted process (a new client, a new Slack connection) posts nothing again.
    with running_stub() as (fresh, api_url):
        settings = served.runtime.settings.model_copy(update={"slack_api_base_url": api_url})
        client = make_client(load_slack_config(settings))
        slack_reminders(served.runtime, served.clock[0], client=client)
        assert fresh.of("chat.postMessage") == []
    assert len(served.stub.of("chat.postMessage")) == 1

    # `@nurture` counts it among what waits for the SDRs.
    assert event(served.url, mention("U0SDR2", SDR_CHANNEL, "anything?")).status_code == 200
    [reply] = served.stub.wait_for("chat.postMessage", lambda c: "thread_ts" in c.args)
    assert "*1* task(s) to do (videos to record, SDR steps)" in reply.text()


def test_a_task_done_elsewhere_is_mirrored_on_its_card(served: Served, tmp_path: Path) -> None:
    lead = add_lead(served.engine, owner="asha")
    touch = add_touch(served.engine, lead, channel="video", body=SCRIPT)
    deliver(served, tmp_path)
    task = task_of(served.engine, touch)
    assert task.id is not None
    upkeep(served)
    assert updates_of(served, task.id) == []

    with session_scope(served.engine) as s:
        complete_task(s, task.id, "Asha (phone)", now=WEDNESDAY + timedelta(hours=1))
    assert upkeep(served)["task_cards_updated"] == 1
    [update] = updates_of(served, task.id)
    assert "Done* by Asha (phone)" in update.text() and buttons(update) == {}
    # The card shows it now: later passes leave it alone.
    assert upkeep(served).get("task_cards_updated") is None
    assert len(updates_of(served, task.id)) == 1


def test_an_overdue_task_is_reminded_then_escalated_once_each(
    served: Served, tmp_path: Path
) -> None:
    lead = add_lead(served.engine, last_name="Silva", owner="asha")
    touch = add_touch(served.engine, lead, channel="video", subject="Your first week", body=SCRIPT)
    deliver(served, tmp_path)  # due Wednesday 10:00
    task = task_of(served.engine, touch)
    assert task.id is not None
    assert upkeep(served)["task_cards_posted"] == 1
    ts = card_row(served.engine, "task", task.id).ts

    def replies() -> list[Call]:
        return [c for c in served.stub.of("chat.postMessage") if c.args.get("thread_ts") == ts]

    served.clock[0] = WEDNESDAY + timedelta(hours=3)
    assert upkeep(served).get("tasks_reminded") is None and replies() == []
    served.clock[0] = WEDNESDAY + timedelta(hours=5)
    assert upkeep(served)["tasks_reminded"] == 1
    [reminder] = replies()
    assert reminder.text().startswith(
        ":alarm_clock: <@U0SDR1> this personal video for *Ana Silva* was due 5 business hours ago"
    )
    served.clock[0] = WEDNESDAY + timedelta(hours=6)
    assert upkeep(served).get("tasks_reminded") is None and len(replies()) == 1

    # Wednesday 10:00-17:00 and Thursday 09:00-17:00 are 15 business hours; Friday 10:00, 16.
    served.clock[0] = WEDNESDAY + timedelta(days=1, hours=7)
    assert upkeep(served).get("tasks_escalated") is None
    served.clock[0] = WEDNESDAY + timedelta(days=2)
    assert upkeep(served)["tasks_escalated"] == 1
    [to_manager] = [c for c in served.stub.of("chat.postMessage") if c.args["channel"] == "U0MGR1"]
    assert (
        "personal video for *Ana Silva* is still not done, 16 business hours" in to_manager.text()
    )
    assert "Escalated to <@U0MGR1>" in replies()[-1].text()
    served.clock[0] = WEDNESDAY + timedelta(days=5)
    assert upkeep(served).get("tasks_escalated") is None
