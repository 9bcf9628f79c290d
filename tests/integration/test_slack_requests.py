"""POST /slack/events on the served app: Slack's signature and timestamp are checked before
anything runs; without Slack settings the route says what to set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agent.runtime import Runtime
from agent.settings import Settings
from tests.servers import serve_asgi
from tests.slack_setup import Served, approval, card_row, paused_draft, served_slack
from tests.slack_stub import click, event, interactive
from ui.http import create_app
from ui.slack import slack_reminders

CHALLENGE = {"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


@pytest.fixture
def served(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Served]:
    with served_slack(sqlite_engine, tmp_path) as served:
        yield served


def test_a_signed_url_verification_is_answered(served: Served) -> None:
    answer = event(served.url, {**CHALLENGE, "type": "url_verification"})
    assert answer.status_code == 200
    assert answer.json() == {"challenge": CHALLENGE["challenge"]}


def test_a_bad_signature_is_refused(served: Served) -> None:
    answer = event(served.url, {**CHALLENGE, "type": "url_verification"}, secret="not-the-secret")
    assert answer.status_code == 401
    unsigned = httpx.post(f"{served.url}/slack/events", json={"type": "url_verification"})
    assert unsigned.status_code == 401


def test_a_stale_timestamp_is_refused_even_when_signed(served: Served) -> None:
    stale = int(time.time()) - 10 * 60  # Slack's replay window is 5 minutes
    answer = event(served.url, {**CHALLENGE, "type": "url_verification"}, timestamp=stale)
    assert answer.status_code == 401


def test_a_forged_click_decides_nothing(served: Served) -> None:
    _, approval_id = paused_draft(served)
    slack_reminders(served.runtime, served.clock[0], client=served.desk.client)
    row = card_row(served.engine, "approval", approval_id)
    assert row.channel and row.ts
    forged = click("approve_draft", approval_id, "U0SDR1", channel=row.channel, message_ts=row.ts)
    assert interactive(served.url, forged, secret="attacker-secret").status_code == 401
    stale = int(time.time()) - 600
    assert interactive(served.url, forged, timestamp=stale).status_code == 401
    # Nothing ran: no Slack call after the card, and the draft still waits.
    assert [c.method for c in served.stub.calls] == ["chat.postMessage"]
    assert approval(served.engine, approval_id).status == "pending"


def test_without_slack_settings_the_route_says_what_to_set(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, NURTURE_VAR_DIR=tmp_path / "var", NURTURE_ENV="test")
    runtime = Runtime(settings=settings, engine=sqlite_engine)
    with serve_asgi(create_app(runtime)) as url:
        answer = event(url, {**CHALLENGE, "type": "url_verification"})
        assert answer.status_code == 404
        assert answer.json()["error"] == "slack_not_configured"
        assert "SLACK_SIGNING_SECRET" in answer.json()["message"]
        assert httpx.get(f"{url}/health").status_code == 200  # the rest of the app is unaffected
    assert slack_reminders(runtime) == {"enabled": False, "reason": "SLACK_BOT_TOKEN is not set"}


def test_a_bad_user_map_is_named_in_the_answer(sqlite_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        NURTURE_VAR_DIR=tmp_path / "var",
        NURTURE_ENV="test",
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_SIGNING_SECRET="s",
        NURTURE_SLACK_USERS='{"asha": "sdr"}',
    )
    runtime = Runtime(settings=settings, engine=sqlite_engine)
    with serve_asgi(create_app(runtime)) as url:
        answer = event(url, {**CHALLENGE, "type": "url_verification"})
    assert answer.status_code == 500
    assert answer.json()["error"] == "slack_misconfigured"
    assert "NURTURE_SLACK_USERS: 'asha' is not a Slack user id" in answer.json()["message"]
