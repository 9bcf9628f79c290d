"""Exactly once at the SMTP server when the sending process is killed (SIGKILL) mid-send: before
the server took the message, and after it did but before the store marked the touch sent."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlmodel import select

from store.db import make_engine, migrate, session_scope
from store.models import OutboxMessage, TouchStatus
from tests.outbox_proc import LEASE_S
from tests.smtp_server import Recorder, smtp_server
from tests.trigger_helpers import WEDNESDAY, add_lead, add_touch, touch_of

ROOT = Path(__file__).resolve().parents[2]
RESTART = WEDNESDAY + timedelta(seconds=2 * LEASE_S)  # after the dead worker's lease ran out


def start_sender(url: str, var_dir: Path, port: int, now_iso: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.outbox_proc", url, str(var_dir), str(port), now_iso],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def send_once(url: str, var_dir: Path, port: int) -> dict[str, Any]:
    proc = start_sender(url, var_dir, port, RESTART.isoformat())
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class StoreWriteLock:
    """Holds the store's write lock (SQLite) or the outbox rows' locks (PostgreSQL), so the
    sender blocks when it tries to mark the touch sent, and can be killed right there."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.held = threading.Event()
        self._conn: Any = None

    def take(self) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[1]
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            dsn = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
            self._conn = psycopg.connect(dsn)
            self._conn.execute("SELECT id FROM outbox FOR UPDATE").fetchall()
        self.held.set()

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self.url.startswith("sqlite"):
            conn.execute("ROLLBACK")
        else:
            conn.rollback()
        conn.close()


def outbox_row(url: str) -> OutboxMessage:
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            return s.exec(select(OutboxMessage)).one()
    finally:
        engine.dispose()


def prepare(url: str) -> int:
    engine = make_engine(url)
    migrate(engine)
    touch = add_touch(engine, add_lead(engine))
    engine.dispose()
    return touch


def test_killed_before_the_server_took_the_message(database_url: str, tmp_path: Path) -> None:
    touch = prepare(database_url)
    recorder = Recorder(hold_rcpt=threading.Event())
    with smtp_server(recorder) as (server, port):
        sender = start_sender(database_url, tmp_path, port, WEDNESDAY.isoformat())
        assert server.at_rcpt.wait(60), "the sender never reached the SMTP server"
        kill(sender)  # mid-transaction: the message data was never sent
        assert recorder.hold_rcpt is not None
        recorder.hold_rcpt.set()
        claimed = outbox_row(database_url)
        assert (claimed.status, claimed.attempts) == ("sending", 1)
        assert server.messages == []
        report = send_once(database_url, tmp_path, port)
        assert report.get("sent") == 1 and "recovered" not in report
        [message] = server.parsed()
    row = outbox_row(database_url)
    assert message["Message-ID"] == row.message_id
    assert (row.status, row.attempts) == ("sent", 2)
    engine = make_engine(database_url)
    assert touch_of(engine, touch).status == TouchStatus.sent
    engine.dispose()


def test_killed_after_the_server_took_it_before_it_was_marked(
    database_url: str, tmp_path: Path
) -> None:
    touch = prepare(database_url)
    lock = StoreWriteLock(database_url)
    recorder = Recorder(on_data=lock.take)
    sent_log = tmp_path / "outbox" / "smtp-sent.jsonl"
    try:
        with smtp_server(recorder) as (server, port):
            sender = start_sender(database_url, tmp_path, port, WEDNESDAY.isoformat())
            wait_for(lambda: sent_log.exists() and "message_id" in sent_log.read_text(), "the log")
            # The server has it and the sender logged it; the sender now waits on the store.
            time.sleep(0.3)
            kill(sender)
            lock.release()
            assert len(server.messages) == 1
            stuck = outbox_row(database_url)
            assert stuck.status == "sending"
            assert stuck.message_id in sent_log.read_text()
            report = send_once(database_url, tmp_path, port)
            assert report.get("recovered") == 1 and "sent" not in report
            assert len(server.messages) == 1  # found in the sent log, not sent again
    finally:
        lock.release()
    row = outbox_row(database_url)
    assert (row.status, row.attempts) == ("sent", 2)
    engine = make_engine(database_url)
    assert touch_of(engine, touch).status == TouchStatus.sent
    engine.dispose()
