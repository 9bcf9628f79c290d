"""Mount the Chainlit chat on the HTTP app at /chat: configured from the settings, offline, and
loaded on the first request so the webhook and the CLI never pay for importing it."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.runtime import Runtime
from ui.chat import services
from ui.chat.users import UsersError

log = logging.getLogger("nurture.chat")
CHAT_DIR = Path(__file__).parent
# Chainlit's UI build with an index page that loads nothing from the internet (see offline_build).
BUILD_DIR = CHAT_DIR / ".build"
# External stylesheets in Chainlit's index page: without internet the page waits on them.
EXTERNAL_LINK = re.compile(
    r"<link\b[^>]*\bhref=\"https://(?:fonts\.googleapis\.com|fonts\.gstatic\.com|cdn\.jsdelivr\.net)"
    r"[^>]*>",
    re.S,
)


class ChatMountError(RuntimeError):
    """The chat cannot start; the message says why and what to do."""


def mount_chat(app: FastAPI, runtime: Callable[[], Runtime], path: str = "/chat") -> None:
    """Serve the chat under `path`; its charts in past threads under `{path}/history/`."""
    chat = LazyChat(runtime, path)
    # Registered before the mount, so it wins over Chainlit's catch-all page route.
    app.add_api_route(f"{path}/history/elements/{{element_id}}", chat.element, methods=["GET"])
    app.mount(path, chat)


def element_url(path: str, element_id: str) -> str:
    return f"{path}/history/elements/{element_id}"


class LazyChat:
    """The ASGI app at /chat: imports and configures Chainlit on the first request."""

    def __init__(self, runtime: Callable[[], Runtime], path: str) -> None:
        self._runtime = runtime
        self._path = path
        self._app: ASGIApp | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            app = await self.ready()
        except Exception as exc:  # say why in one sentence; the next request tries again
            log.exception("the web chat cannot start")
            if scope["type"] == "http":
                reply = PlainTextResponse(f"The web chat cannot start: {exc}", status_code=503)
                await reply(scope, receive, send)
            elif scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1011})
            return
        await app(scope, receive, send)

    async def ready(self) -> ASGIApp:
        if self._app is None:
            async with self._lock:
                if self._app is None:
                    runtime = self._runtime()
                    self._app = await asyncio.to_thread(load_chainlit, runtime, self._path)
        return self._app

    async def element(self, element_id: str, request: Request) -> Response:
        """A chart (or other element) of a past thread, for the thread's author only."""
        await self.ready()
        from chainlit.auth import decode_jwt, get_token_from_cookies

        from ui.chat.history import element_content

        token = get_token_from_cookies(dict(request.cookies))
        try:
            identifier = decode_jwt(token).identifier if token else None
        except Exception:  # an expired or forged token is simply not signed in
            identifier = None
        if identifier is None:
            return Response(status_code=401)
        found = await asyncio.to_thread(element_content, services.services().engine, element_id)
        if found is None or found[1] != identifier:
            return Response(status_code=404)
        row, _author = found
        return Response(row.content, media_type=row.mime or "application/octet-stream")


def load_chainlit(runtime: Runtime, path: str) -> ASGIApp:
    """Import Chainlit with nurture's settings and callbacks; returns its ASGI app."""
    chat = services.bind(runtime, path)
    settings = runtime.settings
    try:
        if not chat.users():
            log.warning(
                "no web chat users yet, so nobody can sign in: add one with "
                "`nurture users add NAME --role manager`"
            )
    except UsersError as exc:
        log.error("the web chat's users cannot be read: %s", exc)
    # Chainlit reads its configuration from the environment; nurture hands it its own.
    os.environ["CHAINLIT_APP_ROOT"] = str(CHAT_DIR)  # .chainlit/config.toml lives here
    os.environ["CHAINLIT_AUTH_SECRET"] = settings.chat_auth_secret
    os.environ["CHAINLIT_ROOT_PATH"] = path
    os.environ["CHAINLIT_ENV_FILE"] = os.devnull  # nurture's settings read .env, not Chainlit
    from chainlit.config import config

    if Path(config.root).resolve() != CHAT_DIR.resolve():
        raise ChatMountError(
            f"Chainlit was imported before the chat was mounted (its root is {config.root}); "
            "mount the chat before anything imports chainlit"
        )
    config.ui.custom_build = str(offline_build())
    # The login page uses this address as it is, unlike the other public files.
    config.ui.login_page_image = f"{path}/public/login.svg"
    config.run.headless = True
    import chainlit.server as server

    from ui.chat import app as callbacks  # importing registers them with Chainlit

    callbacks.show_model_in_header()
    _drop_chainlit_bots(server.app)
    return server.app


def offline_build() -> Path:
    """Chainlit's UI build with its index page made offline: no web fonts and no KaTeX styles
    from CDNs (the page would wait on them without internet; the system fonts apply)."""
    from chainlit.config import BACKEND_ROOT

    packaged = Path(BACKEND_ROOT) / "frontend" / "dist"
    BUILD_DIR.mkdir(exist_ok=True)
    page = EXTERNAL_LINK.sub("", (packaged / "index.html").read_text(encoding="utf-8"))
    _replace(BUILD_DIR / "index.html", lambda tmp: tmp.write_text(page, encoding="utf-8"))
    for entry in packaged.iterdir():
        if entry.name != "index.html":
            link = BUILD_DIR / entry.name
            if not (link.is_symlink() and link.resolve() == entry.resolve()):
                _replace(link, partial(Path.symlink_to, target=entry))
    return BUILD_DIR


def _replace(path: Path, write: Callable[[Path], Any]) -> None:
    """Write beside `path`, then rename over it: processes starting together never see half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    write(tmp)
    os.replace(tmp, path)


def _drop_chainlit_bots(app: FastAPI) -> None:
    # With SLACK_BOT_TOKEN set, Chainlit adds its own Slack endpoint; nurture's Slack app is
    # served elsewhere on the same server, and one bot per workspace is enough.
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", "") != "/slack/events"
    ]
