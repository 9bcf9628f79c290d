"""`nurture eval` end to end over real HTTP: a model server that follows its prompt, the
shipped prompts as the baseline, a deliberately worse draft prompt caught by the gate, the
report of the regression, and a second run answered from the model-call cache."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agent.settings import get_settings
from tests.servers import serve_asgi
from tests.unit.evals.evals_helpers import PromptFollower, shared_kb_dir, worse_prompts
from ui.cli import app

CASES = "tofu-*"  # five top-of-funnel cases, one of them must pass


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_kb_dir(tmp_path_factory)


@pytest.fixture
def var(tmp_path: Path, kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A var folder with the eval index in place, and the environment a user would set."""
    folder = tmp_path / "var"
    shutil.copytree(kb_dir, folder / "evals" / "kb")
    monkeypatch.setenv("NURTURE_VAR_DIR", str(folder))
    monkeypatch.setenv("NURTURE_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", "")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture
def follower() -> Iterator[tuple[PromptFollower, str]]:
    server = PromptFollower()
    with serve_asgi(server.app) as url:
        yield server, f"compatible:{url}/v1:prompt-follower"


def eval_cli(*args: str) -> Result:
    return CliRunner().invoke(
        app, ["eval", *args, "--no-progress"] if args[0] == "run" else ["eval", *args]
    )


def run(model: str, out: Path, *extra: str, code: int = 0) -> dict[str, Any]:
    result = eval_cli("run", "--model", model, "--cases", CASES, "--json", str(out), *extra)
    assert result.exit_code == code, result.output
    return json.loads(out.read_text())


def test_a_worse_draft_prompt_is_caught_and_reported(
    var: Path, follower: tuple[PromptFollower, str], tmp_path: Path
) -> None:
    _, model = follower
    judge = ("--judge", model)
    base = run(model, tmp_path / "base.json", *judge)
    assert base["gate"]["passed"] and base["must_pass"]["failures"] == []
    assert base["evaluator_rates"]["tone"] == 1.0 and base["evaluator_rates"]["judge"] == 1.0
    assert base["prompts"]["draft_email"]["version"] != "2-urgent"

    worse = worse_prompts(tmp_path / "worse-prompts")
    result = eval_cli(
        "run", "--model", model, "--cases", CASES, "--prompts", str(worse),
        "--baseline", base["run_id"], "--json", str(tmp_path / "worse.json"), *judge,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "gate: FAILED" in result.output
    assert "must-pass case tofu-technology-first-touch failed" in result.output
    assert f"tone pass rate dropped from 100% to 0% (-100.0 points) against {base['run_id']}" in (
        result.output
    )
    report = json.loads((tmp_path / "worse.json").read_text())
    assert report["prompts"]["draft_email"]["version"] == "2-urgent"
    assert report["baseline"]["run_id"] == base["run_id"]
    assert set(report["baseline"]["regressed_cases"]) == {r["case"] for r in base["results"]}
    failures = report["results"][0]["failed"]
    assert "'act now'" in failures["tone"] and "held" in failures["trajectory"]
    # the judge saw the pushy drafts too, and preferred the baseline's in both orders
    assert "prefers the baseline" in failures["judge"]

    html = tmp_path / "report.html"
    shown = eval_cli("report", report["run_id"], "--html", str(html))
    assert shown.exit_code == 0, shown.output
    page = html.read_text()
    assert f"compared with {base['run_id']}" in page
    assert "2-urgent" in page and "Act now: " in page  # the changed draft, beside the old one
    assert 'class="regressed"' in page and "tofu-technology-first-touch" in page
    assert "<script" not in page and "<link" not in page and " src=" not in page


def test_a_second_run_is_answered_from_the_cache(
    var: Path, follower: tuple[PromptFollower, str], tmp_path: Path
) -> None:
    server, model = follower
    first = run(model, tmp_path / "first.json", "--judge", "none")
    sent = len(server.requests)
    assert sent == first["model_calls"] > 0 and first["cached_calls"] == 0
    second = run(model, tmp_path / "second.json", "--judge", "none")
    assert len(server.requests) == sent  # not one request reached the model
    assert second["model_calls"] == 0 and second["cached_calls"] == first["model_calls"]
    assert second["results"] == first["results"] and second["tokens"] == first["tokens"]
    again = run(model, tmp_path / "again.json", "--judge", "none", "--no-cache")
    assert len(server.requests) == 2 * sent and again["cached_calls"] == 0


def test_bad_options_get_a_clear_error_and_exit_code_2(var: Path, tmp_path: Path) -> None:
    for args, message in (
        (["run", "--model", "gpt:4"], "'gpt:4' is not a model spec"),
        (["run", "--model", "openai:gpt-4o-mini"], "needs OPENAI_API_KEY"),
        (["run", "--model", "offline", "--baseline", "nope"], "--baseline nope: no such eval run"),
        (["run", "--model", "offline", "--prompts", str(tmp_path / "none")], "not a folder"),
        (["run", "--model", "offline", "--cases", str(tmp_path / "x.yaml")], "no case file"),
        (["run", "--model", "offline", "--cases", "no-such-case-*"], "no case id matches"),
        (["report", "nope", "--html", str(tmp_path / "r.html")], "no eval run 'nope'"),
    ):
        result = eval_cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
