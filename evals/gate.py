"""The gate: a must-pass failure, or a pass-rate drop beyond `max_drop`, fails a run.

Drops are measured against the baseline run, overall and per evaluator, on the cases both ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evals.records import RunRecord

DEFAULT_MAX_DROP = 0.05


@dataclass
class Comparison:
    """A run against its baseline, on the cases both ran."""

    baseline_id: str
    common: list[str]
    pass_rate: tuple[float, float]  # (baseline, current)
    evaluator_rates: dict[str, tuple[float | None, float | None]]
    drops: list[str] = field(default_factory=list)  # regressions beyond the threshold, in words
    regressed: dict[str, list[str]] = field(default_factory=dict)  # case -> evaluators now failing
    improved: dict[str, list[str]] = field(default_factory=dict)  # case -> evaluators now passing
    changed_drafts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.baseline_id,
            "common_cases": len(self.common),
            "pass_rate": self.pass_rate[0],
            "pass_rate_now": self.pass_rate[1],
            "evaluator_rates": {k: v[0] for k, v in self.evaluator_rates.items()},
            "drops": self.drops,
            "regressed_cases": self.regressed,
            "improved_cases": self.improved,
            "changed_drafts": self.changed_drafts,
        }


def compare(current: RunRecord, baseline: RunRecord, *, max_drop: float) -> Comparison:
    common = [case_id for case_id in current.cases if case_id in baseline.cases]
    before, after = baseline.pass_rate(common), current.pass_rate(common)
    rates_before = baseline.evaluator_rates(common)
    rates_after = current.evaluator_rates(common)
    names = [*current.evaluators, *(n for n in baseline.evaluators if n not in current.evaluators)]
    rates = {name: (rates_before.get(name), rates_after.get(name)) for name in names}
    comparison = Comparison(baseline.run_id, common, (before, after), rates)
    if common and before - after > max_drop + 1e-9:
        comparison.drops.append(_drop("pass rate", before, after, baseline.run_id))
    for name, (old, new) in rates.items():
        if old is not None and new is not None and old - new > max_drop + 1e-9:
            comparison.drops.append(_drop(f"{name} pass rate", old, new, baseline.run_id))
    for case_id in common:
        mine, theirs = current.cases[case_id], baseline.cases[case_id]
        now_failing = [n for n in mine.failures() if theirs.status(n) == "pass"]
        now_passing = [n for n in theirs.failures() if mine.status(n) == "pass"]
        if now_failing:
            comparison.regressed[case_id] = now_failing
        if now_passing:
            comparison.improved[case_id] = now_passing
        if _draft(mine.outcome) != _draft(theirs.outcome):
            comparison.changed_drafts.append(case_id)
    return comparison


def decide(current: RunRecord, comparison: Comparison | None, *, max_drop: float) -> dict[str, Any]:
    """{"passed", "reasons", "max_drop"}: every reason names the case or the evaluator."""
    reasons = [
        f"must-pass case {failure['case']} failed: "
        + "; ".join(f"{name}: {why}" for name, why in failure["failed"].items())
        for failure in current.must_pass_failures()
    ]
    if comparison is not None:
        reasons += comparison.drops
    return {"passed": not reasons, "reasons": reasons, "max_drop": max_drop}


def _drop(what: str, old: float, new: float, baseline_id: str) -> str:
    return (
        f"{what} dropped from {old:.0%} to {new:.0%} ({(new - old) * 100:+.1f} points) "
        f"against {baseline_id}"
    )


def _draft(outcome: dict[str, Any]) -> tuple[Any, Any]:
    return outcome.get("subject"), outcome.get("body")
