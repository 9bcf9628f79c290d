"""The gate: must-pass failures and pass-rate drops beyond the threshold fail a run, each
named; comparisons only count the cases both runs ran."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evals.gate import compare, decide
from evals.records import CaseRecord, RunRecord

EVALUATORS = ["trajectory", "tone", "judge"]


def record(
    case_id: str, *, must_pass: bool = False, body: str = "b", **statuses: str
) -> CaseRecord:
    checks = {
        name: {"status": statuses.get(name, "pass"), "reason": f"{name} reason", "score": None}
        for name in EVALUATORS
    }
    checks["judge"]["status"] = statuses.get("judge", "skip")
    return CaseRecord(
        case_id=case_id,
        must_pass=must_pass,
        segment="",
        outcome={"subject": "s", "body": body},
        checks=checks,
    )


def run(run_id: str, *records: CaseRecord, **extra: Any) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        started_at=datetime(2026, 11, 25, tzinfo=UTC),
        model="offline",
        evaluators=EVALUATORS,
        cases={r.case_id: r for r in records},
        **extra,
    )


def test_rates_count_only_the_cases_an_evaluator_applied_to() -> None:
    current = run("now", record("a"), record("b", tone="fail"), record("c", tone="skip"))
    assert current.pass_rate() == round(2 / 3, 4)
    assert current.evaluator_rates() == {"trajectory": 1.0, "tone": 0.5, "judge": None}


def test_a_failing_must_pass_case_fails_the_gate_by_name() -> None:
    current = run("now", record("a", must_pass=True, tone="fail"), record("b"))
    gate = decide(current, None, max_drop=0.05)
    assert not gate["passed"]
    assert gate["reasons"] == ["must-pass case a failed: tone: tone reason"]
    assert decide(run("ok", record("a", must_pass=True)), None, max_drop=0.05)["passed"]


def test_a_drop_beyond_the_threshold_is_named_and_one_within_it_is_not() -> None:
    cases = [f"c{n}" for n in range(20)]
    baseline = run("base", *(record(c) for c in cases))
    one_worse = run("now", *(record(c, tone="fail" if c == "c0" else "pass") for c in cases))
    comparison = compare(one_worse, baseline, max_drop=0.05)
    assert comparison.drops == [] and decide(one_worse, comparison, max_drop=0.05)["passed"]
    assert comparison.regressed == {"c0": ["tone"]}
    two_worse = run(
        "now", *(record(c, tone="fail" if c in ("c0", "c1") else "pass") for c in cases)
    )
    comparison = compare(two_worse, baseline, max_drop=0.05)
    assert comparison.drops == [
        "pass rate dropped from 100% to 90% (-10.0 points) against base",
        "tone pass rate dropped from 100% to 90% (-10.0 points) against base",
    ]
    assert not decide(two_worse, comparison, max_drop=0.05)["passed"]
    assert compare(two_worse, baseline, max_drop=0.10).drops == []


def test_only_cases_both_runs_ran_are_compared_and_changes_are_listed() -> None:
    baseline = run("base", record("a", tone="fail"), record("b"), record("gone", tone="fail"))
    current = run("now", record("a"), record("b", body="new body"), record("new", tone="fail"))
    comparison = compare(current, baseline, max_drop=0.05)
    assert comparison.common == ["a", "b"]
    assert comparison.pass_rate == (0.5, 1.0)
    assert comparison.improved == {"a": ["tone"]} and comparison.regressed == {}
    assert comparison.changed_drafts == ["b"] and comparison.drops == []
