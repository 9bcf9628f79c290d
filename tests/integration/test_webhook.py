"""POST /events over real HTTP: signatures, replays, malformed input, batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from agent.runtime import Runtime
from agent.settings import Settings
from store import crud
from store.db import session_scope
from store.schemas import LeadCreate
from tests.servers import serve_asgi
from ui.http import SIGNATURE_HEADER, create_app, sign

SECRET = "test-secret-0123456789"


@pytest.fixture
def base_url(engine: Engine, tmp_path: Any) -> Iterator[str]:
    settings = Settings(
        NURTURE_VAR_DIR=tmp_path, NURTURE_WEBHOOK_SECRET=SECRET, NURTURE_MAX_BODY_BYTES=200_000
    )
    with session_scope(engine) as s:
        crud.upsert_leads(s, leads=[LeadCreate(email="ana@acme.example", external_id="L-1")])
    with serve_asgi(create_app(Runtime(settings=settings, engine=engine))) as url:
        yield url


def post(
    url: str, payload: Any, *, secret: str = SECRET, raw: bytes | None = None
) -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}
    return httpx.post(f"{url}/events", content=body, headers=headers, timeout=30)


def event(i: int, **kw: Any) -> dict[str, Any]:
    return {
        "id": f"ev-{i}",
        "lead_email": "ana@acme.example",
        "type": "page_view",
        "occurred_at": "2026-11-20T10:00:00Z",
        "properties": {"path": f"/p/{i}"},
        **kw,
    }


def stored_events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return crud.table_counts(s)["events"]


def test_health(base_url: str) -> None:
    response = httpx.get(f"{base_url}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_single_event_then_replay_is_accepted_once(base_url: str, engine: Engine) -> None:
    first = post(base_url, event(1))
    assert first.status_code == 202 and first.json() == {"accepted": 1, "duplicates": 0}
    replay = post(base_url, event(1))
    assert replay.status_code == 202 and replay.json() == {"accepted": 0, "duplicates": 1}
    assert stored_events(engine) == 1


def test_batch_with_external_id_and_unknown_type(base_url: str, engine: Engine) -> None:
    batch = [event(i) for i in range(500)]
    batch.append(
        {
            "id": "x",
            "lead_external_id": "L-1",
            "type": "Custom_Thing",
            "occurred_at": "2026-11-20T11:00:00+01:00",
        }
    )
    response = post(base_url, {"events": batch})
    assert response.status_code == 202 and response.json()["accepted"] == 501
    with session_scope(engine) as s:
        types = crud.event_type_counts(s)
    assert types == {"page_view": 500, "custom_thing": 1}


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "missing_signature"), ({SIGNATURE_HEADER: "sha256=deadbeef"}, "bad_signature")],
)
def test_unsigned_or_badly_signed_is_401(base_url: str, headers: dict, code: str) -> None:
    response = httpx.post(f"{base_url}/events", content=json.dumps(event(1)), headers=headers)
    assert response.status_code == 401 and response.json()["error"] == code


def test_signed_with_another_secret_is_401(base_url: str, engine: Engine) -> None:
    assert post(base_url, event(1), secret="wrong-secret").status_code == 401
    assert stored_events(engine) == 0


def test_malformed_json_is_400(base_url: str) -> None:
    response = post(base_url, None, raw=b'{"id": "x", "type": ')
    assert response.status_code == 400 and response.json()["error"] == "malformed_json"


def test_oversize_body_is_413(base_url: str) -> None:
    big = [event(i, properties={"path": "/x", "pad": "y" * 1000}) for i in range(300)]
    response = post(base_url, big)
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"


def test_too_many_events_is_413(base_url: str) -> None:
    response = post(base_url, [{"id": str(i)} for i in range(1001)])
    assert response.status_code == 413 and response.json()["error"] == "batch_too_large"


def test_unknown_lead_and_bad_items_reject_the_whole_batch(base_url: str, engine: Engine) -> None:
    batch = [
        event(1),
        event(2, lead_email="ghost@nowhere.example"),
        event(3, occurred_at="yesterday"),
        {
            "id": "v",
            "lead_email": "ana@acme.example",
            "type": "video_watched",
            "occurred_at": "2026-11-20T10:00:00Z",
            "properties": {"percent": 140},
        },
    ]
    response = post(base_url, batch)
    assert response.status_code == 422
    body = response.json()
    by_index = {e["index"]: e for e in body["errors"]}
    assert set(by_index) == {1, 2, 3}
    assert "unknown lead" in by_index[1]["message"]
    assert by_index[2]["field"] == "occurred_at"
    assert "percent" in by_index[3]["message"]
    assert stored_events(engine) == 0


@pytest.mark.parametrize("payload", [[], {"events": []}, "text", 42, [1, 2]])
def test_wrong_shapes_are_4xx(base_url: str, payload: Any) -> None:
    response = post(base_url, payload)
    assert response.status_code in (400, 422) and "error" in response.json()


def test_unsubscribe_event_suppresses_the_address(base_url: str, engine: Engine) -> None:
    response = post(base_url, event(9, type="unsubscribe", properties={}))
    assert response.status_code == 202
    with session_scope(engine) as s:
        lead = crud.get_lead_by_email(s, email="ana@acme.example")
        assert lead is not None
        assert crud.is_suppressed(s, email=lead.email) and lead.do_not_email
        assert not crud.may_email(s, lead=lead)
