"""Delivery tasks without Slack: `nurture tasks list` and `nurture tasks done` over the store the
real outbox filled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent.settings import get_settings
from store.db import session_scope
from tests.trigger_helpers import WEDNESDAY, add_lead, add_touch, composer
from tools.outbox.guard import SendPolicy
from tools.outbox.send import Outbox
from tools.outbox.tasks import TaskAlreadyDone, TaskError, complete_task, list_tasks
from tools.outbox.transports import FileTransport
from ui.cli import app

SCRIPT = "Hi Ana, a minute on what the data track covers in week one."


def deliver(engine: Engine, tmp_path: Path) -> None:
    outbox = Outbox(
        engine=engine,
        email=FileTransport(tmp_path / "outbox"),
        composer=composer(),
        policy=SendPolicy(daily_cap=0),
        clock=lambda: WEDNESDAY,
    )
    assert outbox.send_due()["sent"] == 2


def two_tasks(engine: Engine, tmp_path: Path) -> None:
    ana = add_lead(engine, last_name="Silva", owner="asha")
    raj = add_lead(engine, "raj@globex.example", first_name="Raj", company="Globex")
    add_touch(engine, ana, channel="video", subject="Your first week", body=SCRIPT)
    add_touch(engine, raj, channel="sdr_task", subject="Call about the team plan", body="Call.")
    deliver(engine, tmp_path)


def test_tasks_are_listed_by_status_and_owner_and_done_once(engine: Engine, tmp_path: Path) -> None:
    two_tasks(engine, tmp_path)
    with session_scope(engine) as session:
        open_ = list_tasks(session)
        assert [(t["kind_label"], t["lead"], t["assignee"]) for t in open_] == [
            ("personal video", "Ana Silva", "asha"),
            ("SDR task", "Raj", None),
        ]
        assert [t["lead"] for t in list_tasks(session, assignee="asha")] == ["Ana Silva"]
        with pytest.raises(TaskError, match="open, done, all"):
            list_tasks(session, status="finished")
        complete_task(session, int(open_[0]["id"]), "asha")
    with (
        session_scope(engine) as session,
        pytest.raises(TaskAlreadyDone, match="already done by asha"),
    ):
        complete_task(session, int(open_[0]["id"]), "ravi")
    with session_scope(engine) as session:
        assert [t["lead"] for t in list_tasks(session)] == ["Raj"]
        [done] = list_tasks(session, status="done")
        assert done["done_by"] == "asha" and done["done_at"] is not None
        assert len(list_tasks(session, status="all")) == 2


def test_the_cli_lists_and_marks_done(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name == "postgresql":
        pytest.skip("the CLI opens its own engine; the schema per test lives in search_path")
    two_tasks(engine, tmp_path)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(app, ["tasks", "list"])
        assert listed.exit_code == 0, listed.output
        assert "personal video for asha: Ana Silva (Acme)" in listed.output
        assert "SDR task: Raj (Globex)" in listed.output
        first = json.loads(runner.invoke(app, ["tasks", "list", "--json"]).output)[0]
        done = runner.invoke(app, ["tasks", "done", str(first["id"]), "--by", "asha"])
        assert done.exit_code == 0 and f"Task #{first['id']} done by asha." in done.output
        again = runner.invoke(app, ["tasks", "done", str(first["id"]), "--by", "ravi"])
        assert again.exit_code == 1 and "already done by asha" in again.output
        missing = runner.invoke(app, ["tasks", "done", "999", "--by", "asha"])
        assert missing.exit_code == 1 and "no delivery task with id 999" in missing.output
        left = runner.invoke(app, ["tasks", "list", "--status", "done"])
        assert "done by asha" in left.output and "Raj" not in left.output
    finally:
        get_settings.cache_clear()
