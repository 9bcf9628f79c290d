"""OpenAI embeddings when configured: wiring from settings, and real HTTP against a local stub."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from agent.knowledge import embedder_for
from agent.settings import Settings
from knowledge.base import KnowledgeBase, collection_name
from knowledge.embeddings import MiniLMEmbeddingFunction, OpenAIEmbeddingFunction
from tests.unit.kb.conftest import SITE, write_library

DIMENSIONS = 512


def _vector(text: str) -> np.ndarray:
    """A bag-of-words vector: texts sharing words point the same way (enough to rank)."""
    out = np.zeros(DIMENSIONS, dtype=np.float32)
    for word in text.lower().split():
        out[int(hashlib.md5(word.strip(".,?!").encode()).hexdigest(), 16) % DIMENSIONS] += 1
    return out / max(float(np.linalg.norm(out)), 1e-9)


class _Embeddings(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers["Authorization"], **body}
        )
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for index, text in enumerate(texts):
            vector = _vector(str(text))
            encoded = (
                base64.b64encode(vector.tobytes()).decode()
                if body.get("encoding_format") == "base64"
                else vector.tolist()
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub_url() -> Iterator[str]:
    _Embeddings.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_settings_pick_the_embeddings() -> None:
    assert isinstance(embedder_for(Settings(_env_file=None)), MiniLMEmbeddingFunction)
    openai = embedder_for(Settings(_env_file=None, OPENAI_API_KEY="sk-test"))
    assert isinstance(openai, OpenAIEmbeddingFunction)
    assert openai.model_id == "openai-text-embedding-3-small"
    # A self-hosted chat server rarely serves embeddings: the offline model stays.
    local = Settings(_env_file=None, OPENAI_API_KEY="x", OPENAI_BASE_URL="http://h:8000/v1")
    assert isinstance(embedder_for(local), MiniLMEmbeddingFunction)


def test_each_embedding_model_gets_its_own_collection() -> None:
    assert collection_name("nurture-minilm-l6-v2-q8") == "content-nurture-minilm-l6-v2-q8"
    assert collection_name("openai-text-embedding-3-small") != collection_name(
        "openai-text-embedding-3-large"
    )


def test_openai_embeddings_index_and_search_over_http(tmp_path: Path, stub_url: str) -> None:
    embedder = OpenAIEmbeddingFunction(api_key="sk-test", base_url=stub_url)
    kb = KnowledgeBase.open(tmp_path / "kb", embedder=embedder)
    report = kb.index_folder(write_library(tmp_path / "lib"))
    assert report.chunks_embedded == kb.count() > 0
    assert kb.collection.name == "content-openai-text-embedding-3-small"
    [top] = kb.search("women in technology and people returning to work: who qualifies", k=1)
    assert top.url == f"{SITE}/scholarships"
    assert _Embeddings.requests[0]["path"] == "/v1/embeddings"
    assert _Embeddings.requests[0]["auth"] == "Bearer sk-test"
    assert _Embeddings.requests[0]["model"] == "text-embedding-3-small"
