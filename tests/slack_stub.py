"""A local Slack Web API for tests: real HTTP, answers the methods nurture calls, records them.

Also builds requests as Slack sends them (form-encoded interactivity payloads, JSON events),
signed the way `SignatureVerifier` checks.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier

from tests.servers import serve_asgi

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret-0123456789"
TEAM = {"id": "T0TEST", "domain": "nurture-test"}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None

    def text(self) -> str:
        """Everything a person would read in this message: its text and its blocks' texts."""
        parts = [str(self.args.get("text") or "")]
        parts += _block_texts(_as_list(self.args.get("blocks")))
        view = _as_dict(self.args.get("view"))
        if view:
            parts += _block_texts(view.get("blocks") or [])
        return "\n".join(p for p in parts if p)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return _as_list(self.args.get("blocks"))


@dataclass
class SlackStub:
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, str] = field(default_factory=dict)  # method -> Slack error to answer
    throttle: dict[str, int] = field(default_factory=dict)  # method -> 429s before answering
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.api_route("/api/{method}", methods=["GET", "POST"])
        async def method(method: str, request: Request) -> JSONResponse:
            args = dict(request.query_params)
            raw = await request.body()
            if raw:
                kind = request.headers.get("content-type", "")
                args.update(json.loads(raw) if "json" in kind else dict(parse_qsl(raw.decode())))
            auth = request.headers.get("authorization", "")
            token = auth.removeprefix("Bearer ") or args.get("token")
            with self._lock:
                self.calls.append(Call(method, args, token))
            if token != BOT_TOKEN:
                return JSONResponse({"ok": False, "error": "invalid_auth"})
            if method in self.fail:
                return JSONResponse({"ok": False, "error": self.fail[method]})
            if self.throttle.get(method):
                self.throttle[method] -= 1
                return JSONResponse(
                    {"ok": False, "error": "ratelimited"}, 429, headers={"Retry-After": "1"}
                )
            return JSONResponse(self._answer(method, args))

        return api

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://nurture-test.slack.com/",
                "team": "nurture test",
                "user": "nurture",
                "team_id": TEAM["id"],
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
            }
        channel = str(args.get("channel") or "")
        if channel[:1] in ("U", "W"):  # a user id: the app's direct messages with that user
            channel = "D" + channel[1:]
        if method == "chat.postMessage":
            return {"ok": True, "channel": channel, "ts": self._next_ts(), "message": args}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0VIEW", **_as_dict(args.get("view"))}}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            link = f"https://nurture-test.slack.com/archives/{channel}/p{ts}"
            return {"ok": True, "channel": channel, "permalink": link}
        return {"ok": False, "error": "unknown_method"}

    def _next_ts(self) -> str:
        with self._lock:
            return f"1764064800.{next(self._ts):06d}"

    # --- reading the log -----------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        where: Callable[[Call], bool] = lambda _c: True,
        *,
        count: int = 1,
        timeout: float = 60.0,
    ) -> list[Call]:
        """Block until `count` calls of `method` match (lazy listeners run after the ack)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.of(method) if where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"no {count}x {method} within {timeout} s; calls: {seen}")
            time.sleep(0.05)

    def transcript(self) -> str:
        """The Slack conversation as people would read it (for eyeballing in a failing test)."""
        lines = []
        for call in self.calls:
            if call.method == "auth.test":
                continue
            where = call.args.get("channel") or ""
            lines.append(f"--- {call.method} {where}\n{call.text()}")
        return "\n".join(lines)


@contextmanager
def running_stub() -> Iterator[tuple[SlackStub, str]]:
    """The stub served on loopback; yields it and its API base URL (for SLACK_API_BASE_URL)."""
    stub = SlackStub()
    with serve_asgi(stub.app()) as url:
        yield stub, f"{url}/api/"


# --- requests as Slack sends them -----------------------------------------------------------


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}


def post_signed(base_url: str, body: str, content_type: str, **sign: Any) -> httpx.Response:
    headers = {"Content-Type": content_type, **signed_headers(body, **sign)}
    return httpx.post(f"{base_url}/slack/events", content=body, headers=headers, timeout=60)


def interactive(base_url: str, payload: dict[str, Any], **sign: Any) -> httpx.Response:
    """An interactivity request: `payload=<json>`, form-encoded."""
    body = urlencode({"payload": json.dumps(payload)})
    return post_signed(base_url, body, "application/x-www-form-urlencoded", **sign)


def event(base_url: str, payload: dict[str, Any], **sign: Any) -> httpx.Response:
    return post_signed(base_url, json.dumps(payload), "application/json", **sign)


def click(
    action_id: str, value: int, user: str, *, channel: str, message_ts: str
) -> dict[str, Any]:
    """A button press on a card."""
    return {
        "type": "block_actions",
        "team": TEAM,
        "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
        "api_app_id": "A0NURTURE",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{value}.{user}.trigger",
        "channel": {"id": channel, "name": "sdr"},
        "message": {"type": "message", "ts": message_ts, "text": "card"},
        "response_url": "https://hooks.slack.invalid/actions/T0TEST/1/x",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"card:{value}",
                "value": str(value),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def submission(opened: Call, user: str, values: dict[str, Any]) -> dict[str, Any]:
    """Submitting the modal recorded by `views.open`, with `values` by block id (text, or
    `{"option": value}` for a select)."""
    view = _as_dict(opened.args["view"])
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if isinstance(value, dict) and "option" in value:
            element = {"type": "static_select", "selected_option": {"value": value["option"]}}
        else:
            element = {"type": "plain_text_input", "value": value}
        state[block_id] = {"value": element}
    return {
        "type": "view_submission",
        "team": TEAM,
        "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
        "api_app_id": "A0NURTURE",
        "token": "legacy-verification-token",
        "trigger_id": f"submit.{user}.trigger",
        "view": {
            "id": "V0VIEW",
            "team_id": TEAM["id"],
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view.get("blocks", []),
            "state": {"values": state},
            "hash": "1764064800.abcdef",
        },
    }


def mention(user: str, channel: str, text: str) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM["id"],
        "api_app_id": "A0NURTURE",
        "type": "event_callback",
        "event_id": f"Ev{int(time.time() * 1000)}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": user,
            "text": f"<@U0BOT> {text}",
            "ts": f"{time.time():.6f}",
            "channel": channel,
            "event_ts": f"{time.time():.6f}",
        },
    }


def _as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        for key in ("text", "label"):
            if isinstance(block.get(key), dict):
                out.append(str(block[key].get("text", "")))
        out += [str(f.get("text", "")) for f in block.get("fields") or []]
        out += [
            str(e.get("text", {}).get("text", "") if isinstance(e.get("text"), dict) else "")
            or str(e.get("text", ""))
            for e in block.get("elements") or []
            if isinstance(e, dict)
        ]
        element = block.get("element") or {}
        out += [str(o["text"]["text"]) for o in element.get("options") or []]
    return [t for t in out if t]
