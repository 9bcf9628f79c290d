"""`nurture kb index|search` end to end through the CLI (real Chroma and model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.settings import get_settings
from tests.servers import free_port
from tests.unit.kb.conftest import ASSETS, SITE, write_library
from ui.cli import app

runner = CliRunner()


def test_index_then_search_as_json(tmp_path: Path) -> None:
    library, kb_dir = write_library(tmp_path / "lib"), tmp_path / "kb"
    args = ["kb", "index", "--source", str(library), "--kb-dir", str(kb_dir)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert f"{len(ASSETS)} added" in first.output
    again = runner.invoke(app, [*args, "--json"])
    report = json.loads(again.output)
    assert report["unchanged"] == len(ASSETS) and report["chunks_embedded"] == 0

    found = runner.invoke(
        app,
        ["kb", "search", "monthly instalments", "--stage", "decision", "--segment",
         "late:pricing", "-k", "2", "--kb-dir", str(kb_dir), "--json"],
    )  # fmt: skip
    assert found.exit_code == 0, found.output
    results = json.loads(found.output)
    assert [set(r) for r in results] == [{"title", "url", "stage", "segments", "score", "text"}] * 2
    assert results[0]["url"] == f"{SITE}/pricing" and results[0]["stage"] == "decision"
    assert "late:pricing" in results[0]["segments"]

    plain = runner.invoke(app, ["kb", "search", "is my data safe", "--kb-dir", str(kb_dir)])
    assert plain.exit_code == 0
    assert plain.output.startswith("1. Security and data protection")
    assert f"{SITE}/security" in plain.output


def test_front_matter_errors_name_the_file_and_key(tmp_path: Path) -> None:
    library = write_library(tmp_path / "lib", ["pricing.md"])
    (library / "webinar.md").write_text(
        "---\ntitle: Live AMA\nstage: solution\nsegments: mofu:general\nasset_type: webinar\n"
        "url: https://learn.example/ama\n---\nJoin us.\n"
    )
    result = runner.invoke(
        app, ["kb", "index", "--source", str(library), "--kb-dir", str(tmp_path / "kb")]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.exception is not None
    assert "webinar.md: key 'segments'" in result.output
    assert "webinar.md: key 'cta': missing" in result.output


def test_bad_search_options_exit_2_and_an_empty_index_says_so(tmp_path: Path) -> None:
    kb_dir = str(tmp_path / "kb")
    bad = runner.invoke(app, ["kb", "search", "fees", "--stage", "late", "--kb-dir", kb_dir])
    assert bad.exit_code == 2 and "stage: 'late' is not one of" in bad.output
    empty = runner.invoke(app, ["kb", "search", "fees", "--kb-dir", kb_dir])
    assert empty.exit_code == 0 and "nurture kb index" in empty.output
    missing = runner.invoke(
        app, ["kb", "index", "--source", str(tmp_path / "nope"), "--kb-dir", kb_dir]
    )
    assert missing.exit_code == 2 and "not a folder" in missing.output


def test_an_unreachable_chroma_server_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["kb", "search", "fees"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert f"Chroma server at 127.0.0.1:{port} (CHROMA_HOST / CHROMA_PORT)" in result.output
