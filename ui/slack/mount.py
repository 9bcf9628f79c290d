"""`POST /slack/events` on the nurture HTTP app: events, interactivity and options, verified
and dispatched by Bolt. The Bolt app is built on the first request, and only when
SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from agent.runtime import Runtime

if TYPE_CHECKING:
    from slack_bolt import App

    from ui.slack.desk import SlackDesk

# The agent, Bolt and the Slack SDK load on the first Slack request, so `nurture serve` and
# its other routes start as fast without them.

log = logging.getLogger("nurture.slack")
PATH = "/slack/events"
# Slack's payloads are a few kilobytes; anything far larger is not from Slack.
MAX_BODY = 1_000_000


class SlackEndpoint:
    """The desk and the Bolt app that serves it."""

    def __init__(self, desk: SlackDesk) -> None:
        from ui.slack.app import build_bolt_app

        self.desk = desk
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack")
        self.bolt: App = build_bolt_app(desk, self.executor)

    def close(self) -> None:
        """Let the decisions in progress finish (they write the store and update cards)."""
        self.executor.shutdown(wait=True)


def mount_slack(app: FastAPI, runtime: Callable[[], Runtime]) -> None:
    """Add the Slack route. Tests (or an embedding app) may put a ready `SlackEndpoint` in
    `app.state.slack` before the first request."""
    lock = threading.Lock()

    def endpoint() -> SlackEndpoint | None:
        from ui.slack.config import load_slack_config
        from ui.slack.desk import SlackDesk, make_client

        with lock:
            ready = getattr(app.state, "slack", None)
            if ready is None:
                config = load_slack_config(runtime().settings)
                if not config.can_receive:
                    return None
                ready = SlackEndpoint(SlackDesk(runtime(), config, make_client(config)))
                app.state.slack = ready
            return ready

    @app.post(PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

        from ui.slack.config import SlackConfigError

        try:
            slack = await run_in_threadpool(endpoint)
        except SlackConfigError as exc:
            log.error("Slack is misconfigured: %s", exc)
            return JSONResponse({"error": "slack_misconfigured", "message": str(exc)}, 500)
        if slack is None:
            return JSONResponse(
                {
                    "error": "slack_not_configured",
                    "message": "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to use Slack",
                },
                404,
            )
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body_too_large", "message": "not a Slack request"}, 413)
        # Bolt's listeners block (acks are quick, lazy work runs in its own threads).
        answer = await run_in_threadpool(slack.bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(answer)
