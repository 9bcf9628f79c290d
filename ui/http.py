"""The ASGI app behind `nurture serve`: event webhook, health, unsubscribe links, and (later)
chat and Slack mounts."""

from __future__ import annotations

import hashlib
import hmac
import json
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from agent import ingest, live, outbox
from agent.runtime import Runtime, default_runtime
from agent.trigger_rules import trigger_rules
from ui.chat.mount import mount_chat
from ui.slack import mount_slack

SIGNATURE_HEADER = "X-Nurture-Signature"


def sign(body: bytes, secret: str) -> str:
    """The signature a sender puts in X-Nurture-Signature: `sha256=<hex HMAC of the raw body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body but stop at `limit` bytes, whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def mask(email: str) -> str:
    """`a***@acme.example`: enough to recognise, not enough to harvest from a shared link."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def unsubscribe_page(title: str, text: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:Arial,sans-serif;max-width:32rem;margin:3rem auto;'
        'padding:0 1rem;line-height:1.5">'
        f'<h1 style="font-size:1.4rem">{escape(title)}</h1><p>{escape(text)}</p>'
        "</body></html>"
    )


def create_app(runtime: Runtime | None = None) -> FastAPI:
    app = FastAPI(title="nurture", docs_url=None, redoc_url=None)

    def rt() -> Runtime:
        return runtime or default_runtime()

    @app.get("/health")
    def health() -> JSONResponse:
        try:
            with rt().engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # a health probe reports, it does not raise
            return error(503, "database_unavailable", str(exc).splitlines()[0])
        return JSONResponse({"status": "ok", "model": rt().settings.model_provider})

    @app.post("/events")
    async def post_events(request: Request) -> JSONResponse:
        settings = rt().settings
        try:
            body = await read_limited(request, settings.max_body_bytes)
        except BodyTooLarge:
            return error(
                413,
                "body_too_large",
                f"the body exceeds {settings.max_body_bytes} bytes; send smaller batches",
            )
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given:
            return error(
                401, "missing_signature", f"sign the body with HMAC-SHA256 in {SIGNATURE_HEADER}"
            )
        if not hmac.compare_digest(given, sign(body, settings.webhook_secret)):
            return error(401, "bad_signature", f"{SIGNATURE_HEADER} does not match the body")
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, "malformed_json", f"the body is not valid JSON: {exc}")
        items = (
            payload.get("events") if isinstance(payload, dict) and "events" in payload else payload
        )
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not items:
            return error(
                400, "bad_shape", 'send one event object, a list, or {"events": [...]} (not empty)'
            )
        if len(items) > settings.max_batch_events:
            return error(
                413,
                "batch_too_large",
                f"{len(items)} events; at most {settings.max_batch_events} per request",
            )
        numbered = [(index, item) for index, item in enumerate(items)]
        bad = [
            (i, "each event must be a JSON object")
            for i, item in numbered
            if not isinstance(item, dict)
        ]
        if bad:
            return error(
                422,
                "invalid_events",
                "nothing was stored",
                errors=[{"index": i, "field": None, "message": m} for i, m in bad],
            )
        rows, errors = await run_in_threadpool(ingest.validate_events, rt().engine, numbered)
        if errors:
            return error(
                422,
                "invalid_events",
                f"{len({i for i, _ in errors})} invalid event(s); nothing was stored",
                errors=[{"index": i, "field": e.column, "message": e.message} for i, e in errors],
            )
        inserted = await run_in_threadpool(
            ingest.write_events,
            rt().engine,
            [r for _, r in rows],
            rules=trigger_rules(rt().settings),
        )
        # Scores and segments update right after the response: the sender never waits on them.
        touched = {row["lead_id"] for _, row in rows}
        return JSONResponse(
            {"accepted": inserted, "duplicates": len(rows) - inserted},
            status_code=202,
            background=BackgroundTask(live.refresh_leads, rt().engine, touched),
        )

    @app.get("/unsubscribe/{token}")
    async def unsubscribe_link(token: str) -> HTMLResponse:
        """The link in every email: one click opts the address out."""
        return await _unsubscribe(token, source="link")

    @app.post("/unsubscribe/{token}")
    async def unsubscribe_one_click(token: str) -> HTMLResponse:
        """RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` here."""
        return await _unsubscribe(token, source="one-click")

    async def _unsubscribe(token: str, *, source: str) -> HTMLResponse:
        company = rt().settings.sender_company
        done = await run_in_threadpool(outbox.unsubscribe, rt(), token, source=source)
        if done is None:
            return HTMLResponse(
                unsubscribe_page(
                    "This unsubscribe link is not valid",
                    "It may have been cut short when it was copied. Use the link in the email "
                    f"again, or reply to it asking {company} to stop.",
                ),
                status_code=400,
            )
        return HTMLResponse(
            unsubscribe_page(
                "You are unsubscribed",
                f"{mask(done.email)} will get no more emails from {company}.",
            )
        )

    # POST /slack/events (answers 404 until SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set).
    mount_slack(app, rt)

    # /chat: the web chat (Chainlit), loaded on its first request.
    mount_chat(app, rt)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Last resort: a JSON body instead of a bare traceback page; nothing was committed.
        return error(500, "internal_error", type(exc).__name__)

    return app
