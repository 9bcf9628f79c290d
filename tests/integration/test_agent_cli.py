"""`nurture agent run` and `nurture approvals`, as a team without Slack uses them: each command
its own process, the draft paused in one and approved in another, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from agent.settings import get_settings
from store.db import make_engine, session_scope
from store.models import Approval, Draft, Lead, Touch, TouchStatus
from ui.cli import app

ROOT = Path(__file__).resolve().parents[2]
NURTURE = [sys.executable, "-m", "ui.cli"]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict:
    """The environment a user would set: a var folder and the database."""
    values = {**os.environ, "NURTURE_VAR_DIR": str(tmp_path / "var"), "NURTURE_ENV": "test"}
    values.pop("OPENAI_API_KEY", None)
    values.pop("OPENAI_BASE_URL", None)
    values["DATABASE_URL"] = "" if database_url.startswith("sqlite") else database_url
    return values


def nurture(env: dict, *args: str, code: int = 0) -> str:
    done = subprocess.run(
        [*NURTURE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout


def _engine(env: dict) -> Engine:
    url = env["DATABASE_URL"] or f"sqlite:///{env['NURTURE_VAR_DIR']}/nurture.db"
    return make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _write_store_files(folder: Path) -> tuple[Path, Path]:
    """Twelve quiet leads and one who reads everything (no sales-ready intent yet)."""
    leads = folder / "leads.csv"
    rows = ["email,first_name,company,timezone"]
    rows += [f"lead{n}@quiet.example,Quiet{n},Quietco,Europe/London" for n in range(12)]
    rows.append("asha@reader.example,Asha,Readerly,Asia/Kolkata")
    leads.write_text("\n".join(rows) + "\n")
    events = folder / "events.jsonl"
    old = datetime.now(UTC) - timedelta(days=5)
    lines = []
    for n, kind in enumerate(
        ["page_view"] * 6 + ["content_download"] * 3 + ["webinar_attended", "video_watched"]
    ):
        lines.append(
            {
                "id": f"asha-{n}",
                "lead_email": "asha@reader.example",
                "type": kind,
                "occurred_at": (old + timedelta(hours=n)).isoformat(),
                "properties": {"path": "/courses/data-science", "percent": 90},
            }
        )
    lines.append(
        {
            "id": "quiet-0",
            "lead_email": "lead0@quiet.example",
            "type": "page_view",
            "occurred_at": old.isoformat(),
            "properties": {"path": "/"},
        }
    )
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return leads, events


def _setup_in_process(env: dict, monkeypatch: pytest.MonkeyPatch, *commands: list[str]) -> None:
    """Preparing the store is not under test here: run those commands in this process."""
    for key in ("NURTURE_VAR_DIR", "NURTURE_ENV", "DATABASE_URL"):
        monkeypatch.setenv(key, env[key])
    get_settings.cache_clear()
    try:
        for command in commands:
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()


def test_pause_in_one_process_approve_in_another(
    env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads, events = _write_store_files(tmp_path)
    _setup_in_process(
        env,
        monkeypatch,
        ["import", "leads", str(leads)],
        ["import", "events", str(events)],
        ["score", "rescore"],
    )
    engine = _engine(env)
    with session_scope(engine) as s:
        asha = s.exec(select(Lead).where(Lead.first_name == "Asha")).one()
        asha_id = asha.id

    out = json.loads(nurture(env, "agent", "run", "--lead", str(asha_id), "--json"))
    assert out[0]["result"] == "awaiting_approval", out
    queue = json.loads(nurture(env, "approvals", "list", "--json"))
    assert [item["lead"]["name"] for item in queue] == ["Asha"]
    approval_id = queue[0]["id"]
    assert queue[0]["draft"]["sources"], "the draft cites the content library"

    edit = tmp_path / "edit.txt"
    edit.write_text("Subject: Asha, the data-science syllabus you read\n\nHi Asha, ...\n")
    said = nurture(env, "approvals", "approve", str(approval_id), "--edit", str(edit), "--by", "U7")
    assert "edited by U7: scheduled" in said
    again = nurture(env, "approvals", "reject", str(approval_id), "--reason", "late", code=3)
    assert "already decided: edited by U7" in again

    with session_scope(engine) as s:
        approval = s.get(Approval, approval_id)
        assert approval is not None
        draft = s.get(Draft, approval.draft_id)
        assert draft is not None
        touch = s.get(Touch, draft.touch_id)
    assert approval.edited_subject == "Asha, the data-science syllabus you read"
    assert touch is not None and touch.status == TouchStatus.approved and touch.due_at
    engine.dispose()


def test_bad_arguments_get_clear_errors(env: dict) -> None:
    said = subprocess.run(
        [*NURTURE, "agent", "run"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert said.returncode == 1 and "give either --lead ID or --all-due" in said.stderr
    said = subprocess.run(
        [*NURTURE, "approvals", "approve", "41"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert said.returncode == 1 and "no approval with id 41" in said.stderr
    assert "Traceback" not in said.stderr
