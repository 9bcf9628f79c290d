"""Run the eval suite: cases through the real graph side by side, evaluators, gate, store.

Each case runs concurrently; then the evaluators, the comparison with a baseline run and the
gate; the run is stored with every verdict.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy import Engine
from tqdm import tqdm

from agent.knowledge import open_knowledge_base
from agent.models import build_chat_model, cost_usd
from agent.models.offline import OfflineChatModel
from agent.settings import Settings
from evals import models
from evals.cache import ModelCallCache
from evals.cases import Case, Dataset, DatasetError, load_dataset
from evals.evaluators import Evaluator, JudgeEvaluator, default_evaluators
from evals.evaluators.judge import NO_JUDGE, message_of
from evals.execute import CaseRun, Harness, run_case
from evals.gate import DEFAULT_MAX_DROP, Comparison, compare, decide
from evals.records import CaseRecord, RunRecord
from evals.stores import CaseStores
from knowledge.base import KnowledgeBase, KnowledgeBaseError
from prompts import PromptError, load_prompt
from prompts.renderer import resolve_dir
from store import crud
from store.db import session_scope
from tools.drafting.structured import model_name_of


class EvalError(ValueError):
    """The run cannot start (bad option, dataset, prompts or baseline); says what to fix."""


@dataclass
class EvalOptions:
    model: str | None = None  # offline | openai:NAME | compatible:URL:NAME; None: as configured
    judge: str | None = None  # a model spec or "none"; None: the run's model when it is real
    prompts_dir: Path | None = None
    cases: str | None = None  # a glob of case files, or of case ids in the default files
    baseline: str | None = None  # a run id, or "latest"
    concurrency: int = 4
    max_drop: float = DEFAULT_MAX_DROP
    cache: bool = True
    progress: bool = True
    keep_stores: bool = False


@dataclass
class EvalOutcome:
    record: RunRecord
    comparison: Comparison | None
    duration_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.record.gate.get("passed"))

    def as_json(self) -> dict[str, Any]:
        record = self.record
        return {
            "run_id": record.run_id,
            "cases": len(record.cases),
            "evaluators": len(record.evaluators),
            "pass_rate": record.pass_rate(),
            "passed_cases": sum(r.passed for r in record.cases.values()),
            "evaluator_rates": record.evaluator_rates(),
            "must_pass": {
                "cases": sum(r.must_pass for r in record.cases.values()),
                "failures": record.must_pass_failures(),
            },
            "gate": record.gate,
            "baseline": self.comparison.as_dict() if self.comparison else None,
            "model": record.model,
            "judge": record.judge_model,
            "prompts": record.prompt_versions,
            "prompts_dir": record.prompts_dir,
            "dataset": record.dataset,
            "tokens": {
                "prompt": record.prompt_tokens,
                "completion": record.completion_tokens,
                "total": record.prompt_tokens + record.completion_tokens,
            },
            "cost_usd": record.cost_usd,
            "model_calls": record.model_calls,
            "cached_calls": record.cached_calls,
            "latency": record.latency(),
            "duration_s": round(self.duration_s, 3),
            "notes": self.notes,
            "results": [
                {
                    "case": r.case_id,
                    "passed": r.passed,
                    "must_pass": r.must_pass,
                    "result": r.outcome.get("result"),
                    "action": r.outcome.get("action"),
                    "stage": r.outcome.get("stage"),
                    "failed": r.failures(),
                }
                for r in record.cases.values()
            ],
        }


def run_evals(
    settings: Settings,
    engine: Engine,
    options: EvalOptions,
    *,
    model: BaseChatModel | None = None,
    judge: BaseChatModel | None = None,
    kb: KnowledgeBase | None = None,
) -> EvalOutcome:
    """Run the suite and store it in `engine`'s store. `model`, `judge` and `kb` replace what
    the options and settings would build (tests pass scripted models and a shared index)."""
    started = datetime.now(UTC)
    dataset = _dataset(options.cases)
    run_settings = _settings(settings, options.model)
    label = models.describe(run_settings) if model is None else f"custom:{model_name_of(model)}"
    prompt_versions = _prompt_versions(options.prompts_dir)
    with session_scope(engine) as session:
        baseline = _baseline(session, options.baseline)
    notes = [
        f"prompt {name} is malformed: {entry['error']}"
        for name, entry in prompt_versions.items()
        if "error" in entry
    ]
    cache = ModelCallCache(cache_path(settings)) if options.cache else None
    try:
        model = model or build_chat_model(run_settings)
        _use_cache(model, cache)
        judge, judge_label, judge_note = _judge(settings, options, model, judge)
        _use_cache(judge, cache)
        evaluators = default_evaluators(judge, judge_note=judge_note)
        if judge is None:
            notes.append(f"judge skipped: {judge_note}")
        kb = kb or _knowledge_base(run_settings)
        with tempfile.TemporaryDirectory(prefix="nurture-eval-") as folder:
            work = Path(folder)
            harness = Harness(
                settings=run_settings,
                model=model,
                kb=kb,
                stores=CaseStores(work / "stores", dataset.population, dataset.now),
                work_dir=work,
                prompts_dir=options.prompts_dir,
                keep_stores=options.keep_stores,
            )
            baseline_messages = _messages(baseline)
            records = _run_all(
                dataset.cases,
                lambda case: _evaluate(run_case(case, harness), evaluators, baseline_messages),
                concurrency=max(1, options.concurrency),
                progress=options.progress,
            )
    finally:
        if cache is not None:
            for used in (model, judge):  # models handed in outlive this run's cache file
                if used is not None and used.cache is cache:
                    used.cache = None
            cache.close()
    record = RunRecord(
        run_id=f"{started:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}",
        started_at=started,
        finished_at=datetime.now(UTC),
        model=label,
        judge_model=judge_label,
        prompts_dir=str(options.prompts_dir) if options.prompts_dir else None,
        prompt_versions=prompt_versions,
        dataset={"files": dataset.files, "sha256": dataset.sha256, "now": dataset.now.isoformat()},
        baseline_id=baseline.run_id if baseline else None,
        evaluators=[e.name for e in evaluators],
        cases={case.id: records[case.id][0] for case in dataset.cases},
    )
    _add_judge_use(record, evaluators)
    # Requests really sent: the passes' calls less their cache hits, plus the judge's less its.
    case_hits = sum(r.cached_calls for r, _, _ in records.values())
    all_hits = cache.stats.hits if cache is not None else case_hits
    record.cached_calls = all_hits
    record.model_calls = (
        sum(calls for _, calls, _ in records.values())
        + sum(e.calls for e in evaluators if isinstance(e, JudgeEvaluator))
        - (all_hits - case_hits)
    )
    comparison = compare(record, baseline, max_drop=options.max_drop) if baseline else None
    record.gate = decide(record, comparison, max_drop=options.max_drop)
    with session_scope(engine) as session:
        record.save(session)
    duration = (datetime.now(UTC) - started).total_seconds()
    return EvalOutcome(record, comparison, duration, notes)


def cache_path(settings: Settings) -> Path:
    """Where model answers are kept between runs."""
    return settings.var_dir / "evals" / "model-cache.sqlite"


def _dataset(cases: str | None) -> Dataset:
    try:
        return load_dataset(cases)
    except DatasetError as exc:
        raise EvalError(str(exc)) from None


def _settings(settings: Settings, spec: str | None) -> Settings:
    try:
        return models.settings_for(settings, spec)
    except models.ModelSpecError as exc:
        raise EvalError(str(exc)) from None


def _prompt_versions(prompts_dir: Path | None) -> dict[str, Any]:
    """Each prompt file's version and content hash; a malformed file is recorded with its
    error (the cases that use it fail on it; the others still run)."""
    folder = resolve_dir(prompts_dir)
    if not folder.is_dir():
        raise EvalError(f"--prompts {folder}: not a folder of prompt files (*.md)")
    versions: dict[str, Any] = {}
    for path in sorted(folder.glob("*.md")):
        try:
            prompt = load_prompt(path.stem, folder)
            versions[prompt.id] = {"version": prompt.version, "sha256": prompt.sha256[:12]}
        except PromptError as exc:
            versions[path.stem] = {"version": "malformed", "error": str(exc)}
    if not versions:
        raise EvalError(f"--prompts {folder}: no prompt files (*.md) in it")
    return versions


def _baseline(session: Any, run_id: str | None) -> RunRecord | None:
    if run_id is None:
        return None
    if run_id == "latest":
        runs = crud.list_eval_runs(session, limit=1)
        if not runs:
            raise EvalError("--baseline latest: no eval run is stored yet; run one first")
        run_id = runs[0].id
    record = RunRecord.load(session, run_id)
    if record is None:
        known = ", ".join(run.id for run in crud.list_eval_runs(session, limit=5)) or "none yet"
        raise EvalError(f"--baseline {run_id}: no such eval run (latest: {known})")
    return record


def _judge(
    settings: Settings,
    options: EvalOptions,
    model: BaseChatModel,
    judge: BaseChatModel | None,
) -> tuple[BaseChatModel | None, str | None, str]:
    """(the judge model or None, its label, why it is skipped)."""
    if judge is not None:
        return judge, f"custom:{model_name_of(judge)}", NO_JUDGE
    spec = options.judge
    if spec == "none":
        return None, None, "turned off with --judge none"
    if spec is None:
        if isinstance(model, OfflineChatModel):
            return None, None, NO_JUDGE
        return model, models.describe(_settings(settings, options.model)), NO_JUDGE
    judge_settings = _settings(settings, spec)
    if judge_settings.model_provider == "offline":
        return None, None, "the offline model cannot judge; use --judge openai:NAME or compatible"
    return build_chat_model(judge_settings), models.describe(judge_settings), NO_JUDGE


def _use_cache(model: BaseChatModel | None, cache: ModelCallCache | None) -> None:
    """Cache a real model's calls. The offline model is not cached: it costs nothing, and its
    answers change with its code, which the cache key cannot see."""
    if model is not None and cache is not None and not isinstance(model, OfflineChatModel):
        model.cache = cache


def _knowledge_base(settings: Settings) -> KnowledgeBase:
    """The content index for evals, under var/evals/kb: built once, then kept in step."""
    try:
        kb = open_knowledge_base(settings, path=settings.var_dir / "evals" / "kb")
        kb.index_folder()
    except KnowledgeBaseError as exc:
        raise EvalError(f"the content library cannot be indexed for evals: {exc}") from None
    return kb


def _messages(baseline: RunRecord | None) -> dict[str, str]:
    if baseline is None:
        return {}
    found = {}
    for case_id, record in baseline.cases.items():
        message = message_of(record.outcome.get("subject"), record.outcome.get("body"))
        if message:
            found[case_id] = message
    return found


def _evaluate(
    run: CaseRun, evaluators: list[Evaluator], baseline_messages: dict[str, str]
) -> tuple[CaseRecord, int, CaseRun]:
    """The case's record, and how many model requests its passes really sent."""
    if run.case.id in baseline_messages:
        run.judge["baseline_message"] = baseline_messages[run.case.id]
    checks = {}
    for evaluator in evaluators:
        try:
            verdict = evaluator.evaluate(run)
            checks[evaluator.name] = verdict.as_dict()
        except Exception as exc:  # an evaluator bug must not hide the other verdicts
            checks[evaluator.name] = {
                "status": "fail",
                "reason": f"the evaluator failed: {type(exc).__name__}: {exc}",
                "score": 0.0,
                "details": {},
            }
    passes = [run, *([run.twin] if run.twin else [])]
    record = CaseRecord(
        case_id=run.case.id,
        must_pass=run.case.must_pass,
        segment=run.case.segment,
        outcome=run.outcome(),
        checks=checks,
        prompt_tokens=sum(p.prompt_tokens for p in passes),
        completion_tokens=sum(p.completion_tokens for p in passes),
        cost_usd=round(sum(p.cost_usd for p in passes), 6),
        latency_s=round(run.seconds, 4),
        cached_calls=sum(p.cached_calls for p in passes),
        error=run.error,
    )
    sent = sum(len(p.model_calls) - p.cached_calls for p in passes)
    return record, sent, run


def _run_all(
    cases: list[Case],
    work: Callable[[Case], tuple[CaseRecord, int, CaseRun]],
    *,
    concurrency: int,
    progress: bool,
) -> dict[str, tuple[CaseRecord, int, CaseRun]]:
    done: dict[str, tuple[CaseRecord, int, CaseRun]] = {}
    failed = 0
    lock = threading.Lock()
    with (
        tqdm(
            total=len(cases), file=sys.stderr, disable=not progress, unit="case", desc="eval"
        ) as bar,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="eval") as pool,
    ):
        futures = {pool.submit(work, case): case for case in cases}
        for future in as_completed(futures):
            case = futures[future]
            try:
                done[case.id] = future.result()
            except DatasetError as exc:
                raise EvalError(str(exc)) from None
            with lock:
                failed += not done[case.id][0].passed
                bar.set_postfix(failed=failed)
                bar.update(1)
    return done


def _add_judge_use(record: RunRecord, evaluators: list[Evaluator]) -> None:
    for evaluator in evaluators:
        if isinstance(evaluator, JudgeEvaluator) and evaluator.model is not None:
            record.extra_prompt_tokens += evaluator.prompt_tokens
            record.extra_completion_tokens += evaluator.completion_tokens
            record.extra_cost_usd += cost_usd(
                model_name_of(evaluator.model), evaluator.prompt_tokens, evaluator.completion_tokens
            )
