"""An eval run as data: per case and evaluator verdicts, rates, totals; to and from the store."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from store import crud
from store.models import EvalCaseResult, EvalCheck, EvalRun


@dataclass
class CaseRecord:
    """One case of a run: its verdicts (evaluator -> status, reason, score) and what happened."""

    case_id: str
    must_pass: bool
    segment: str
    outcome: dict[str, Any]
    checks: dict[str, dict[str, Any]]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached_calls: int = 0
    error: str | None = None

    @property
    def passed(self) -> bool:
        """No evaluator failed (skips do not count against a case)."""
        return not self.failures()

    def failures(self) -> dict[str, str]:
        return {
            name: str(check.get("reason") or "")
            for name, check in self.checks.items()
            if check.get("status") == "fail"
        }

    def status(self, evaluator: str) -> str | None:
        check = self.checks.get(evaluator)
        return None if check is None else str(check.get("status"))


@dataclass
class RunRecord:
    """A whole run. Rates are computed from the case records, so a subset can be compared."""

    run_id: str
    started_at: datetime
    model: str
    evaluators: list[str]
    cases: dict[str, CaseRecord]
    finished_at: datetime | None = None
    judge_model: str | None = None
    prompts_dir: str | None = None
    prompt_versions: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    baseline_id: str | None = None
    model_calls: int = 0
    cached_calls: int = 0
    extra_prompt_tokens: int = 0  # model use outside the passes (the judge)
    extra_completion_tokens: int = 0
    extra_cost_usd: float = 0.0
    gate: dict[str, Any] = field(default_factory=dict)

    def selected(self, case_ids: Iterable[str] | None) -> list[CaseRecord]:
        if case_ids is None:
            return list(self.cases.values())
        wanted = set(case_ids)
        return [record for key, record in self.cases.items() if key in wanted]

    def pass_rate(self, case_ids: Iterable[str] | None = None) -> float:
        records = self.selected(case_ids)
        return round(sum(r.passed for r in records) / len(records), 4) if records else 0.0

    def evaluator_rates(self, case_ids: Iterable[str] | None = None) -> dict[str, float | None]:
        """Pass rate of each evaluator over the cases it applied to (None: it never applied)."""
        records = self.selected(case_ids)
        rates: dict[str, float | None] = {}
        for name in self.evaluators:
            statuses = [r.status(name) for r in records]
            applied = [s for s in statuses if s in ("pass", "fail")]
            rates[name] = round(applied.count("pass") / len(applied), 4) if applied else None
        return rates

    def must_pass_failures(self) -> list[dict[str, Any]]:
        return [
            {"case": r.case_id, "failed": r.failures()}
            for r in self.cases.values()
            if r.must_pass and not r.passed
        ]

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.cases.values()) + self.extra_prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.cases.values()) + self.extra_completion_tokens

    @property
    def cost_usd(self) -> float:
        return round(sum(r.cost_usd for r in self.cases.values()) + self.extra_cost_usd, 6)

    def latency(self) -> dict[str, float]:
        """Seconds per case (one pass through the graph, model calls included)."""
        values = sorted(r.latency_s for r in self.cases.values())
        if not values:
            return {}
        return {
            "mean_s": round(statistics.fmean(values), 4),
            "p50_s": round(_quantile(values, 0.5), 4),
            "p95_s": round(_quantile(values, 0.95), 4),
            "max_s": round(values[-1], 4),
        }

    # --- the store ------------------------------------------------------------------------

    def save(self, session: Session) -> None:
        run = EvalRun(
            id=self.run_id,
            started_at=self.started_at,
            finished_at=self.finished_at,
            model=self.model,
            judge_model=self.judge_model,
            prompts_dir=self.prompts_dir,
            prompt_versions=self.prompt_versions,
            dataset={**self.dataset, "evaluators": self.evaluators},
            baseline_id=self.baseline_id,
            cases=len(self.cases),
            passed=sum(r.passed for r in self.cases.values()),
            pass_rate=self.pass_rate(),
            evaluator_rates=self.evaluator_rates(),
            must_pass_failures=self.must_pass_failures(),
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=self.cost_usd,
            model_calls=self.model_calls,
            cached_calls=self.cached_calls,
            latency=self.latency(),
            gate=self.gate,
        )
        results = [
            EvalCaseResult(
                run_id=self.run_id,
                case_id=r.case_id,
                must_pass=r.must_pass,
                passed=r.passed,
                segment=r.segment or None,
                outcome=r.outcome,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_usd=r.cost_usd,
                latency_s=r.latency_s,
                cached_calls=r.cached_calls,
                error=r.error,
            )
            for r in self.cases.values()
        ]
        checks = [
            EvalCheck(
                run_id=self.run_id,
                case_id=r.case_id,
                evaluator=name,
                status=str(check.get("status")),
                score=check.get("score"),
                reason=check.get("reason") or None,
                details=check.get("details") or {},
            )
            for r in self.cases.values()
            for name, check in r.checks.items()
        ]
        crud.add_eval_run(session, run=run, results=results, checks=checks)

    @classmethod
    def load(cls, session: Session, run_id: str) -> RunRecord | None:
        run = crud.get_eval_run(session, run_id=run_id)
        if run is None:
            return None
        checks: dict[str, dict[str, dict[str, Any]]] = {}
        for check in crud.eval_checks(session, run_id=run_id):
            checks.setdefault(check.case_id, {})[check.evaluator] = {
                "status": check.status,
                "reason": check.reason or "",
                "score": check.score,
                "details": check.details,
            }
        cases = {
            result.case_id: CaseRecord(
                case_id=result.case_id,
                must_pass=result.must_pass,
                segment=result.segment or "",
                outcome=result.outcome,
                checks=checks.get(result.case_id, {}),
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                cost_usd=result.cost_usd,
                latency_s=result.latency_s,
                cached_calls=result.cached_calls,
                error=result.error,
            )
            for result in crud.eval_case_results(session, run_id=run_id)
        }
        dataset = dict(run.dataset)
        evaluators = list(dataset.pop("evaluators", None) or _evaluators_of(cases))
        summed_prompt = sum(r.prompt_tokens for r in cases.values())
        summed_completion = sum(r.completion_tokens for r in cases.values())
        return cls(
            run_id=run.id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            model=run.model,
            judge_model=run.judge_model,
            prompts_dir=run.prompts_dir,
            prompt_versions=run.prompt_versions,
            dataset=dataset,
            baseline_id=run.baseline_id,
            evaluators=evaluators,
            cases=cases,
            model_calls=run.model_calls,
            cached_calls=run.cached_calls,
            extra_prompt_tokens=run.prompt_tokens - summed_prompt,
            extra_completion_tokens=run.completion_tokens - summed_completion,
            extra_cost_usd=run.cost_usd - sum(r.cost_usd for r in cases.values()),
            gate=run.gate,
        )


def _evaluators_of(cases: dict[str, CaseRecord]) -> list[str]:
    names: list[str] = []
    for record in cases.values():
        names += [name for name in record.checks if name not in names]
    return names


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    index = max(0, min(len(values) - 1, round(q * len(values) + 0.5) - 1))
    return values[index]
