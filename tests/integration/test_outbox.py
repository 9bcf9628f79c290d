"""The outbox over a real store and a real SMTP server on loopback: headers, parts, edits, the
file outbox, tasks, and the guardrails re-checked at send time (suppression, the frequency cap,
send windows, the daily cap), retries and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from store import crud
from store.db import session_scope
from store.models import Approval, DeliveryTask, Draft, Lead, OutboxMessage, TouchStatus
from tests.smtp_server import Recorder, smtp_server
from tests.trigger_helpers import WEDNESDAY, add_lead, add_touch, composer, touch_of
from tools.outbox.guard import SendPolicy
from tools.outbox.send import Outbox
from tools.outbox.transports import FileTransport, SentLog, SmtpTransport
from tools.triggers.rules import load_rules
from tools.unsubscribe import make_token

HTML = "<!doctype html><html><body><p>Map the skills your next role needs.</p></body></html>"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Recorder, SmtpTransport]]:
    with smtp_server() as (recorder, port):
        transport = SmtpTransport(
            host="127.0.0.1",
            port=port,
            security="none",
            sent_log=SentLog(tmp_path / "smtp-sent.jsonl"),
            timeout_s=10,
        )
        yield recorder, transport


def outbox(
    engine: Engine, transport: SmtpTransport | FileTransport, now: datetime = WEDNESDAY, **policy
) -> Outbox:
    values = {"daily_cap": 0, **policy}
    return Outbox(
        engine=engine,
        email=transport,
        composer=composer(),
        policy=SendPolicy(**values),
        rules=load_rules(),
        clock=lambda: now,
    )


def row_of(engine: Engine, touch_id: int) -> OutboxMessage:
    with session_scope(engine) as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.touch_id == touch_id)).one()


def test_an_email_goes_out_once_with_its_headers_and_both_parts(
    engine: Engine, smtp: tuple[Recorder, SmtpTransport]
) -> None:
    recorder, transport = smtp
    lead = add_lead(engine, last_name="Rao")
    touch = add_touch(engine, lead, html=HTML)
    report = outbox(engine, transport).send_due()
    assert report == {"queued": 1, "claimed": 1, "sent": 1}
    [message] = recorder.parsed()
    row = row_of(engine, touch)
    assert message["Message-ID"] == row.message_id
    assert message["To"] == "Ana Rao <ana@acme.example>"
    assert message["From"] == "Priya Nair <priya@x-education.example>"
    link = f"http://127.0.0.1:8080/unsubscribe/{make_token('ana@acme.example', 's3cret-for-tests')}"
    assert message["List-Unsubscribe"] == f"<{link}>"
    # On the wire as a plain URL, not folded into an encoded word.
    assert f"List-Unsubscribe: <{link}>".encode() in recorder.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Map the skills" in text.get_content() and link in text.get_content()
    assert html.get_content().strip() == HTML
    sent = touch_of(engine, touch)
    assert sent.status == TouchStatus.sent and sent.sent_at == WEDNESDAY
    assert (row.status, row.transport, row.attempts) == ("sent", "smtp", 1)
    # The next pass finds nothing to send: one delivery per touch.
    assert outbox(engine, transport, WEDNESDAY + timedelta(minutes=1)).send_due() == {}
    assert len(recorder.messages) == 1


def test_an_approvers_edit_wins_and_keeps_the_way_out(
    engine: Engine, smtp: tuple[Recorder, SmtpTransport]
) -> None:
    recorder, transport = smtp
    lead = add_lead(engine)
    touch = add_touch(engine, lead, html=HTML)
    with session_scope(engine) as s:
        draft = s.exec(select(Draft).where(Draft.touch_id == touch)).one()
        assert draft.id is not None
        s.add(
            Approval(
                draft_id=draft.id,
                status="edited",
                edited_subject="Ana, one question",
                edited_body="Hi Ana,\n\nWould a 20-minute call help?\n\nPriya",
            )
        )
    outbox(engine, transport).send_due()
    [message] = recorder.parsed()
    assert message["Subject"] == "Ana, one question"
    assert message.get_content_type() == "text/plain"  # the stale HTML part is dropped
    body = message.get_content().replace("\r\n", "\n")
    assert body.startswith("Hi Ana,\n\nWould a 20-minute call help?")
    assert "X Education · 12 MG Road" in body and "/unsubscribe/" in body


def test_the_file_outbox_writes_each_email_once(engine: Engine, tmp_path: Path) -> None:
    lead = add_lead(engine)
    touch = add_touch(engine, lead, html=HTML)
    files = FileTransport(tmp_path / "outbox")
    assert outbox(engine, files).send_due()["sent"] == 1
    row = row_of(engine, touch)
    [written] = list((tmp_path / "outbox").glob("*.eml"))
    assert written == files.path_of(row.message_id)
    parsed = message_from_bytes(written.read_bytes(), policy=default)
    assert parsed["Message-ID"] == row.message_id
    assert files.delivered(row.message_id)
    assert outbox(engine, files, WEDNESDAY + timedelta(hours=1)).send_due() == {}
    assert len(list((tmp_path / "outbox").glob("*"))) == 1


def test_videos_and_sdr_steps_become_tasks_for_people(engine: Engine, tmp_path: Path) -> None:
    video_lead = add_lead(engine, owner="U-SDR-7")
    sdr_lead = add_lead(engine, "bo@acme.example", first_name="Bo")
    video = add_touch(engine, video_lead, channel="video", subject="A minute for Ana")
    call = add_touch(engine, sdr_lead, channel="sdr_task", subject="Ready to talk?")
    report = outbox(engine, FileTransport(tmp_path / "outbox")).send_due()
    assert report["sent"] == 2
    assert not (tmp_path / "outbox").exists()  # no email went out
    with session_scope(engine) as s:
        tasks = {t.touch_id: t for t in s.exec(select(DeliveryTask))}
    assert tasks[video].kind == "video" and tasks[video].assignee == "U-SDR-7"
    assert tasks[video].title == "Record a personal video for Ana"
    assert tasks[call].kind == "sdr_task" and "Ready to talk?" in tasks[call].title
    assert "Suggested message" in tasks[call].body
    assert row_of(engine, video).transport == "task"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"consent": False}, "no consent"),
        ({"do_not_email": True}, "do-not-email"),
        ({}, "on the suppression list"),
    ],
)
def test_opt_outs_are_checked_again_right_before_sending(
    engine: Engine, smtp: tuple[Recorder, SmtpTransport], fields: dict[str, bool], why: str
) -> None:
    recorder, transport = smtp
    lead = add_lead(engine)
    touch = add_touch(engine, lead)
    # The opt-out arrives after the touch was drafted and approved.
    with session_scope(engine) as s:
        row = s.get(Lead, lead)
        assert row is not None
        for key, value in fields.items():
            setattr(row, key, value)
        if not fields:
            crud.suppress(s, email=row.email, reason="manual")
    assert outbox(engine, transport).send_due()["cancelled"] == 1
    assert recorder.messages == []
    skipped = touch_of(engine, touch)
    assert skipped.status == TouchStatus.skipped
    assert skipped.skip_reason == f"cancelled: suppressed at send time: {why}"


def test_no_two_touches_within_the_gap_across_sequences(
    engine: Engine, smtp: tuple[Recorder, SmtpTransport]
) -> None:
    recorder, transport = smtp
    lead = add_lead(engine)
    add_touch(engine, lead, status=TouchStatus.sent, sent_at=WEDNESDAY - timedelta(days=2))
    touch = add_touch(engine, lead)
    assert outbox(engine, transport).send_due()["deferred"] == 1
    row = row_of(engine, touch)
    # Sent Monday 10:00: the next touch may go Friday 10:00, inside the window.
    friday = WEDNESDAY + timedelta(days=2)
    assert row.due_at == friday and touch_of(engine, touch).due_at == friday
    assert row.defer_reason == "frequency cap: a touch went out within 4 days"
    assert outbox(engine, transport, friday - timedelta(minutes=1)).send_due() == {}
    assert outbox(engine, transport, friday).send_due()["sent"] == 1
    assert len(recorder.messages) == 1


def test_touches_wait_for_the_leads_business_hours(engine: Engine, tmp_path: Path) -> None:
    night = add_lead(engine, timezone="America/Los_Angeles")  # 02:00 on Wednesday there
    weekend = add_lead(engine, "bo@acme.example")
    night_touch = add_touch(engine, night)
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    weekend_touch = add_touch(engine, weekend, due_at=saturday)
    files = FileTransport(tmp_path / "outbox")
    outbox(engine, files).send_due()
    assert row_of(engine, night_touch).due_at == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert row_of(engine, night_touch).defer_reason == "outside the lead's send window"
    outbox(engine, files, saturday).send_due()
    assert row_of(engine, weekend_touch).due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_the_daily_cap_defers_to_tomorrow_and_never_drops(engine: Engine, tmp_path: Path) -> None:
    leads = [add_lead(engine, f"l{i}@acme.example") for i in range(5)]
    touches = [add_touch(engine, lead) for lead in leads]
    files = FileTransport(tmp_path / "outbox")
    sent_per_day = []
    for day in range(4):
        now = WEDNESDAY + timedelta(days=day)
        for minutes in (0, 30):  # two passes a day: the second finds the cap reached
            report = outbox(engine, files, now + timedelta(minutes=minutes), daily_cap=2).send_due()
            if minutes == 0:
                sent_per_day.append(report.get("sent", 0))
            else:
                assert report.get("sent", 0) == 0
    assert sent_per_day == [2, 2, 1, 0]
    statuses = {touch_of(engine, t).status for t in touches}
    assert statuses == {TouchStatus.sent}
    deferred = [row_of(engine, t) for t in touches if row_of(engine, t).deferrals]
    assert deferred and all(r.defer_reason and "daily cap of 2" in r.defer_reason for r in deferred)


def test_a_temporary_refusal_is_retried_later(
    engine: Engine, smtp: tuple[Recorder, SmtpTransport]
) -> None:
    recorder, transport = smtp
    recorder.rcpt_replies.append("451 4.3.0 Try again later")
    touch = add_touch(engine, add_lead(engine))
    assert outbox(engine, transport).send_due()["retry"] == 1
    row = row_of(engine, touch)
    assert row.status == "queued" and row.due_at == WEDNESDAY + timedelta(seconds=30)
    assert row.last_error is not None and "451" in row.last_error
    assert outbox(engine, transport, WEDNESDAY + timedelta(minutes=1)).send_due()["sent"] == 1
    assert len(recorder.messages) == 1 and row_of(engine, touch).attempts == 2


def test_a_refused_address_is_a_bounce(
    engine: Engine, smtp: tuple[Recorder, SmtpTransport]
) -> None:
    recorder, transport = smtp
    recorder.rcpt_replies.append("550 5.1.1 No such user")
    lead = add_lead(engine)
    touch = add_touch(engine, lead)
    later = add_touch(engine, lead, due_at=WEDNESDAY + timedelta(days=5))
    assert outbox(engine, transport).send_due()["failed"] == 1
    failed = touch_of(engine, touch)
    assert failed.status == TouchStatus.skipped and "550" in str(failed.skip_reason)
    assert touch_of(engine, later).skip_reason == "stopped: bounce"
    with session_scope(engine) as s:
        assert crud.is_suppressed(s, email="ana@acme.example")


def test_the_sent_log_survives_a_torn_line_and_sees_other_writers(tmp_path: Path) -> None:
    path = tmp_path / "smtp-sent.jsonl"
    mine, theirs = SentLog(path), SentLog(path)
    mine.record("<a@x>")
    assert theirs.contains("<a@x>") and not theirs.contains("<b@x>")
    with path.open("a") as handle:
        handle.write('{"message_id": "<torn')  # a crash mid-write
    assert not theirs.contains("<torn")
    mine.record("<b@x>")
    assert SentLog(path).contains("<b@x>")
