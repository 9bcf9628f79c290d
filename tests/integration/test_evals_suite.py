"""The offline eval suite as a CI gate: every case through the real nurture graph, the
must-pass cases must pass; and a stored run reads back as it was, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent.settings import Settings
from evals.cases import load_dataset
from evals.records import RunRecord
from evals.runner import EvalOptions, run_evals
from knowledge.base import KnowledgeBase
from store.db import session_scope
from tests.unit.evals.evals_helpers import shared_kb_dir

HARD_KINDS = ("sparse", "conflict", "excluded", "injection", "fatigue", "enterprise", "late")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return KnowledgeBase.open(shared_kb_dir(tmp_path_factory))


def test_the_offline_suite_passes_every_must_pass_case(
    settings: Settings, sqlite_engine: Engine, kb: KnowledgeBase
) -> None:
    outcome = run_evals(
        settings, sqlite_engine, EvalOptions(model="offline", progress=False), kb=kb
    )
    result = outcome.as_json()
    assert result["must_pass"]["failures"] == [], result["must_pass"]["failures"]
    assert outcome.passed and result["gate"] == {"passed": True, "reasons": [], "max_drop": 0.05}
    assert result["cases"] == len(load_dataset().cases) >= 40
    assert result["must_pass"]["cases"] >= 10
    # what the dataset promises is what ran: a decision for every case
    by_case = {r["case"]: r for r in result["results"]}
    assert by_case["demo-request-hand-off"]["result"] == "handed_off"
    assert by_case["top-decile-approval"]["result"] == "awaiting_approval"
    assert by_case["do-not-email-flag"]["action"] == "wait"
    assert by_case["injection-notes-override"]["action"] == "send_email"
    assert result["evaluator_rates"]["judge"] is None  # no real model: skipped with a note
    assert any("judge skipped" in note for note in result["notes"])
    # the offline drafter's own guardrails hold: nothing ungrounded, unsafe or off-tone
    for name in ("grounding", "compliance", "safety", "tone", "length"):
        assert result["evaluator_rates"][name] == 1.0, name
    assert result["tokens"]["total"] > 0 and result["model_calls"] > 0


def test_the_dataset_covers_the_hard_cases() -> None:
    dataset = load_dataset()
    segments = Counter(case.segment for case in dataset.cases)
    assert all(segments[kind] for kind in HARD_KINDS), segments
    ids = {case.id for case in dataset.cases}
    assert {"competitor-employee-reading", "name-chinese", "top-decile-approval"} <= ids
    assert sum(case.injected for case in dataset.cases) >= 4
    assert {case.expect.stage for case in dataset.cases} >= {
        "problem", "solution", "vendor", "decision"
    }  # fmt: skip


def test_a_stored_run_reads_back_as_it_was(
    settings: Settings, engine: Engine, kb: KnowledgeBase
) -> None:
    options = EvalOptions(model="offline", cases="injection-notes-*", progress=False)
    outcome = run_evals(settings, engine, options, kb=kb)
    with session_scope(engine) as session:
        loaded = RunRecord.load(session, outcome.record.run_id)
    assert loaded is not None
    original = outcome.record
    assert loaded.evaluators == original.evaluators
    assert loaded.pass_rate() == original.pass_rate()
    assert loaded.evaluator_rates() == original.evaluator_rates()
    assert loaded.prompt_tokens == original.prompt_tokens and loaded.gate == original.gate
    [case_id] = loaded.cases
    assert loaded.cases[case_id].checks == original.cases[case_id].checks
    assert loaded.cases[case_id].outcome["twin"] == {"action": "send_email", "stage": "solution"}
    assert loaded.prompt_versions["draft_email"]["version"]


def test_a_baseline_compares_on_the_cases_both_ran(
    settings: Settings, sqlite_engine: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    first = run_evals(
        settings,
        sqlite_engine,
        EvalOptions(model="offline", cases="demo-request-*", progress=False),
        kb=kb,
    )
    second = run_evals(
        settings,
        sqlite_engine,
        EvalOptions(model="offline", cases="demo-*", baseline="latest", progress=False),
        kb=kb,
    )
    assert second.comparison is not None
    assert second.comparison.baseline_id == first.record.run_id
    assert second.comparison.common == ["demo-request-hand-off", "demo-request-sparse"]
    assert second.comparison.regressed == {} and second.comparison.changed_drafts == []
    assert second.passed
