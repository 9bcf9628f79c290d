"""GET /unsubscribe/{token} and the one-click POST over real HTTP: signed tokens, suppression,
pending touches skipped, a confirmation page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent.runtime import Runtime
from agent.settings import Settings
from store import crud
from store.db import session_scope
from store.models import Event, Lead, TouchStatus
from tests.servers import serve_asgi
from tests.trigger_helpers import add_lead, add_touch, touch_of
from tools.unsubscribe import make_token
from ui.http import create_app

SECRET = "session-secret-0123456789"


@pytest.fixture
def base_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    settings = Settings(NURTURE_VAR_DIR=tmp_path, NURTURE_SESSION_SECRET=SECRET)
    with serve_asgi(create_app(Runtime(settings=settings, engine=engine))) as url:
        yield url


def test_the_link_opts_the_lead_out_and_skips_what_was_queued(
    engine: Engine, base_url: str
) -> None:
    lead = add_lead(engine)
    queued = add_touch(engine, lead)
    response = httpx.get(f"{base_url}/unsubscribe/{make_token('Ana@Acme.example', SECRET)}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "You are unsubscribed" in response.text
    assert "a***@acme.example will get no more emails from X Education" in response.text
    assert "ana@acme.example" not in response.text
    skipped = touch_of(engine, queued)
    assert skipped.status == TouchStatus.skipped and skipped.skip_reason == "stopped: unsubscribe"
    with session_scope(engine) as s:
        row = s.get(Lead, lead)
        assert row is not None and row.do_not_email
        assert crud.is_suppressed(s, email="ana@acme.example")
        [recorded] = s.exec(select(Event).where(Event.lead_id == lead)).all()
    assert (recorded.type, recorded.source) == ("unsubscribe", "link")
    # A second click is harmless: the same page, still one event that day.
    again = httpx.get(f"{base_url}/unsubscribe/{make_token('ana@acme.example', SECRET)}")
    assert again.status_code == 200
    with session_scope(engine) as s:
        assert len(s.exec(select(Event)).all()) == 1


def test_one_click_post_from_a_mail_client(engine: Engine, base_url: str) -> None:
    lead = add_lead(engine)
    token = make_token("ana@acme.example", SECRET)
    response = httpx.post(
        f"{base_url}/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    with session_scope(engine) as s:
        [recorded] = s.exec(select(Event).where(Event.lead_id == lead)).all()
    assert recorded.properties == {"via": "one-click"}


def test_a_forged_or_damaged_token_changes_nothing(engine: Engine, base_url: str) -> None:
    add_lead(engine)
    forged = make_token("ana@acme.example", "not-our-secret")
    damaged = make_token("ana@acme.example", SECRET)[:-3]
    for token in (forged, damaged, "nonsense"):
        response = httpx.get(f"{base_url}/unsubscribe/{token}")
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.text
    with session_scope(engine) as s:
        assert not crud.is_suppressed(s, email="ana@acme.example")


def test_an_address_without_a_lead_is_still_suppressed(engine: Engine, base_url: str) -> None:
    response = httpx.get(f"{base_url}/unsubscribe/{make_token('gone@acme.example', SECRET)}")
    assert response.status_code == 200
    with session_scope(engine) as s:
        assert crud.is_suppressed(s, email="gone@acme.example")
