"""The /chat mount: Chainlit's page made offline, and a chat that cannot start says why."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.runtime import Runtime
from agent.wiring import WiringError
from ui.chat.mount import EXTERNAL_LINK, mount_chat


def test_the_offline_page_loads_nothing_from_the_internet() -> None:
    spec = importlib.util.find_spec("chainlit")
    assert spec is not None and spec.submodule_search_locations
    page = (
        Path(next(iter(spec.submodule_search_locations))) / "frontend" / "dist" / "index.html"
    ).read_text(encoding="utf-8")
    assert re.search(r'href="https://', page), "Chainlit's page links a CDN: nothing to strip"
    offline = EXTERNAL_LINK.sub("", page)
    assert not re.search(r'(?:href|src)="https?://', offline)
    # Its own scripts and styles stay.
    assert re.search(r'<script type="module"[^>]+src="/assets/index-', offline)
    assert re.search(r'<link rel="stylesheet"[^>]+href="/assets/index-', offline)


def test_a_chat_that_cannot_start_answers_one_sentence_and_tries_again() -> None:
    calls = []

    def runtime() -> Runtime:
        calls.append(1)
        raise WiringError("the knowledge base cannot be opened: Chroma at chroma:8000 is down")

    app = FastAPI()
    mount_chat(app, runtime)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    with TestClient(app) as client:
        for _ in range(2):
            reply = client.get("/chat/")
            assert reply.status_code == 503
            assert reply.text == (
                "The web chat cannot start: the knowledge base cannot be opened: "
                "Chroma at chroma:8000 is down"
            )
        # The rest of the server is not held up.
        assert client.get("/health").json() == {"status": "ok"}
    assert len(calls) == 2
