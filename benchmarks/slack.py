"""Slack for SDRs: how fast a click is acknowledged and how fast its card shows the decision.

Method (everything in a temporary folder, nothing under var/; the offline model):

1. Store. `--leads` synthetic leads (default 2,000) built as `nurture bench agent` builds them
   (import, train, rescore, segment, index the content library), then the agent runs on the
   hottest 150 due leads with the SQLite checkpointer: top-decile drafts pause for approval.
   Setup, not measured.
2. Serving. `nurture serve`'s app (`ui.http.create_app`) under uvicorn on loopback, in this
   process, with Slack on and its Web API pointed at a local recording stub (also on
   loopback). The Slack side is the product's own default: the agent is the real wiring
   (`agent.wiring.nurture_agent`), opened on the first click and kept.
3. Cards. One `slack_reminders` pass posts a card per pending approval: wall time per card.
4. Clicks. For up to `--clicks` cards, one after another: a signed `approve_draft` click over
   HTTP. `ack_ms` is the HTTP round trip (what Slack's 3-second limit applies to);
   `card_updated_ms` runs from sending the click until the stub has received the card's
   `chat.update` (the verdict recorded, the thread resumed, the touch scheduled, the card
   rewritten). The first click opens the agent (model, index, checkpointer): it is reported
   apart as `first_click_card_updated_ms` and left out of the percentiles.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier

TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret-0123456789"
USER = "U0BENCH"


class RecordingSlack:
    """The few Slack Web API methods nurture calls, answered at once; each call's arrival
    time is kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.counter = 0

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.api_route("/api/{method}", methods=["GET", "POST"])
        async def method(method: str, request: Request) -> JSONResponse:
            raw = await request.body()
            kind = request.headers.get("content-type", "")
            args: dict[str, Any] = dict(request.query_params)
            if raw:
                args.update(json.loads(raw) if "json" in kind else dict(parse_qsl(raw.decode())))
            with self.lock:
                self.calls.append((time.perf_counter(), method, args))
                self.counter += 1
                ts = f"1764064800.{self.counter:06d}"
            channel = str(args.get("channel", ""))
            if method == "auth.test":
                return JSONResponse({"ok": True, "team_id": "T0B", "user_id": "U0BOT"})
            return JSONResponse({"ok": True, "channel": channel, "ts": args.get("ts") or ts})

        return api

    def updated_at(self, ts: str) -> float | None:
        with self.lock:
            for at, method, args in self.calls:
                if method == "chat.update" and args.get("ts") == ts:
                    return at
        return None


@contextmanager
def serve(app: Any) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _click(url: str, approval_id: int, channel: str, ts: str) -> httpx.Response:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0B", "domain": "bench"},
        "user": {"id": USER, "username": "bench"},
        "api_app_id": "A0B",
        "token": "legacy",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "sdr"},
        "actions": [{"type": "button", "action_id": "approve_draft", "value": str(approval_id)}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(
            SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        ),
    }
    return httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=60)


def measure(workdir: Path, n_leads: int, clicks: int) -> dict[str, Any]:
    from sqlmodel import col, select

    from agent.runtime import Runtime
    from agent.settings import Settings
    from agent.wiring import nurture_agent
    from benchmarks.agent import build_store
    from store.db import session_scope
    from store.models import SlackCard
    from ui.http import create_app
    from ui.slack import slack_reminders

    built = build_store(workdir, n_leads)
    with nurture_agent(built) as agent:
        results = agent.run_due(limit=150)
    paused = sum(1 for r in results if r.get("result") == "awaiting_approval")
    stub = RecordingSlack()
    with serve(stub.app()) as stub_url:
        settings = Settings(
            NURTURE_VAR_DIR=workdir / "var",
            NURTURE_ENV="test",
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_BASE_URL=f"{stub_url}/api/",
            SLACK_SDR_CHANNEL="C0SDR",
            NURTURE_SLACK_USERS=json.dumps({USER: {"name": "Bench SDR", "role": "sdr"}}),
        )
        runtime = Runtime(settings=settings, engine=built.engine)
        start = time.perf_counter()
        posted = slack_reminders(runtime).get("approval_cards_posted", 0)
        post_s = time.perf_counter() - start
        with session_scope(runtime.engine) as session:
            cards = [
                (card.ref_id, str(card.channel), str(card.ts))
                for card in session.exec(
                    select(SlackCard)
                    .where(SlackCard.kind == "approval")
                    .order_by(col(SlackCard.id))
                    .limit(clicks)
                )
            ]
        acks: list[float] = []
        updates: list[float] = []
        with serve(create_app(runtime)) as url:
            for approval_id, channel, ts in cards:
                sent = time.perf_counter()
                answer = _click(url, approval_id, channel, ts)
                acks.append((time.perf_counter() - sent) * 1000)
                if answer.status_code != 200:
                    raise RuntimeError(f"click answered {answer.status_code}: {answer.text}")
                while (done := stub.updated_at(ts)) is None:
                    if time.perf_counter() - sent > 120:
                        raise RuntimeError(f"no card update for approval {approval_id}")
                    time.sleep(0.005)
                updates.append((done - sent) * 1000)
    warm = updates[1:] or updates
    return {
        "agent_results": len(results),
        "drafts_awaiting_approval": paused,
        "cards_posted": posted,
        "card_post_ms_each": round(post_s * 1000 / max(posted, 1), 1),
        "clicks": len(acks),
        "ack_ms": {
            "p50": round(statistics.median(acks), 1),
            "p95": round(_percentile(acks, 0.95), 1),
            "max": round(max(acks), 1),
        },
        "first_click_card_updated_ms": round(updates[0], 1) if updates else None,
        "card_updated_ms": {
            "p50": round(statistics.median(warm), 1),
            "p95": round(_percentile(warm, 0.95), 1),
            "max": round(max(warm), 1),
        }
        if warm
        else None,
    }


def run(*, n_leads: int = 2_000, clicks: int = 30) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nurture-bench-slack-") as tmp:
        start = time.perf_counter()
        result = measure(Path(tmp), n_leads, clicks)
        total_s = time.perf_counter() - start
    return {
        "leads": n_leads,
        "model": "offline",
        "total_s": round(total_s, 1),
        **result,
        "method": __doc__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2_000)
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    text = json.dumps(run(n_leads=args.leads, clicks=args.clicks), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
