"""The knowledge base against a real Chroma server (CHROMA_HOST), started for the test."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.knowledge import open_knowledge_base
from agent.settings import Settings
from tests.servers import free_port
from tests.unit.kb.conftest import ASSETS, SITE, write_library

CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    if not CHROMA.exists() and shutil.which("chroma") is None:
        pytest.skip("the chroma command (chromadb's server) is not installed")
    port = free_port()
    server = subprocess.Popen(
        [str(CHROMA if CHROMA.exists() else "chroma"), "run", "--path", str(tmp_path / "srv"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("the Chroma server did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_index_and_search_on_a_chroma_server(tmp_path: Path, chroma_server: int) -> None:
    settings = Settings(
        _env_file=None,
        NURTURE_VAR_DIR=tmp_path / "var",
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT=chroma_server,
    )
    library = write_library(tmp_path / "lib")
    first = open_knowledge_base(settings).index_folder(library)
    assert first.added == len(ASSETS) and first.chunks_embedded > 0
    # Nothing went to the embedded default folder.
    assert not (tmp_path / "var" / "kb").exists()
    again = open_knowledge_base(settings)
    report = again.index_folder(library)
    assert report.unchanged == len(ASSETS) and report.chunks_embedded == 0
    [top] = again.search("is learner data encrypted", stage="decision", k=1)
    assert top.url == f"{SITE}/security" and top.citation.endswith(f"({SITE}/security)")
    (library / "security.md").unlink()
    assert again.index_folder(library).removed == 1
    assert f"{SITE}/security" not in {r.url for r in again.search("is learner data encrypted")}
