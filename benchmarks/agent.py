"""Nurture agent speed and prompt size with the offline model.

Method (everything in a temporary folder, nothing under var/):

1. Store. A synthetic sample of `--leads` leads (default 10,000; `sample.generate`, seed 7) is
   imported with the product's importers; the scoring model is trained on its outcomes;
   every lead is rescored and segmented; the shipped content library is indexed into an
   embedded Chroma under the temporary folder. This is setup (`setup_s`), not measured.
2. Step latency. `NurtureAgent.run_lead` for `--sample` leads drawn at random (seed 7), each
   a full pass: assess (pass record, score, segments, sequence, brief), decide, draft
   (content search, copy and guardrails), queue and schedule (or the approval pause for
   top-decile leads, or the hand-off), with the SQLite checkpointer.
   A few warm-up passes are not counted. p50 / p99 in ms. `excluding_model` is the same
   passes less the time inside chat-model calls (from the model's start to its end callback:
   the offline model's answer here, a hosted model's round trip in production), as the target
   (p50 <= 50 ms) excludes the LLM; `model_ms` is that time per pass.
3. Throughput. `NurtureAgent.run_due()` over every lead still due (all the others), one
   process, as `nurture agent run --all-due` runs it: leads / s of wall time.
4. Prompt size. Prompt and completion tokens (tiktoken, as the offline model reports them)
   of every draft the runs stored: mean and max.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from sqlmodel import col, select

SEED = 7
WARMUP = 5


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_store(workdir: Path, n_leads: int) -> Any:
    """A migrated, imported, trained, scored, segmented store and an indexed library."""
    from agent import ingest
    from agent.knowledge import index_library
    from agent.runtime import open_runtime
    from agent.settings import Settings
    from sample.generate import default_now, generate, load_stats, write_sample
    from store.db import session_scope
    from tools import lead_scoring
    from tools.segments.assign import resegment_all

    settings = Settings(NURTURE_VAR_DIR=workdir / "var", NURTURE_ENV="test")
    runtime = open_runtime(settings)
    data = generate(load_stats(), n_leads=n_leads, seed=SEED, now=default_now())
    paths = write_sample(data, workdir / "sample")
    ingest.import_leads(runtime.engine, paths["leads.csv"])
    ingest.import_events(runtime.engine, paths["events.jsonl"])
    ingest.import_outcomes(runtime.engine, paths["outcomes.csv"])
    with session_scope(runtime.engine) as session:
        lead_scoring.train_from_store(session, models_dir=settings.var_dir / "models")
    with session_scope(runtime.engine) as session:
        lead_scoring.rescore_all(session)
        resegment_all(session)
    index_library(settings)
    return runtime


class ModelClock(BaseCallbackHandler):
    """Wall time spent inside chat-model calls, summed until `take()` resets it."""

    def __init__(self) -> None:
        self.spent = 0.0
        self._started: dict[UUID, float] = {}

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **_: Any
    ) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: Any, *, run_id: UUID, **_: Any) -> None:
        self._stop(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._stop(run_id)

    def _stop(self, run_id: UUID) -> None:
        started = self._started.pop(run_id, None)
        if started is not None:
            self.spent += time.perf_counter() - started

    def take(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent


def measure(runtime: Any, *, sample: int) -> dict[str, Any]:
    from agent.wiring import nurture_agent
    from store.db import session_scope
    from store.models import Draft, Lead

    with session_scope(runtime.engine) as session:
        lead_ids = [int(i) for i in session.exec(select(col(Lead.id))) if i is not None]
    rng = random.Random(SEED)
    picked = rng.sample(lead_ids, min(len(lead_ids), sample + WARMUP))
    latencies: list[float] = []
    in_model: list[float] = []
    results: Counter[str] = Counter()
    clock = ModelClock()
    with nurture_agent(runtime) as agent:
        callbacks = agent.deps.run_callbacks
        agent.deps.run_callbacks = lambda: [*callbacks(), clock]
        for n, lead_id in enumerate(picked):
            clock.take()
            start = time.perf_counter()
            out = agent.run_lead(lead_id)
            if n >= WARMUP:
                latencies.append((time.perf_counter() - start) * 1000)
                in_model.append(clock.take() * 1000)
                results[str(out["result"])] += 1
        agent.deps.run_callbacks = callbacks
        start = time.perf_counter()
        due = agent.run_due()
        due_s = time.perf_counter() - start
    with session_scope(runtime.engine) as session:
        drafts = list(session.exec(select(Draft)))
    without = [total - model for total, model in zip(latencies, in_model, strict=True)]
    prompt = [d.prompt_tokens or 0 for d in drafts]
    completion = [d.completion_tokens or 0 for d in drafts]
    return {
        "step_latency_ms": {
            "p50": round(_percentile(latencies, 0.5), 1),
            "p99": round(_percentile(latencies, 0.99), 1),
            "mean": round(statistics.fmean(latencies), 1),
            "passes": len(latencies),
            "excluding_model": {
                "p50": round(_percentile(without, 0.5), 1),
                "p99": round(_percentile(without, 0.99), 1),
            },
            "model_ms": {"p50": round(_percentile(in_model, 0.5), 1)},
        },
        "step_results": dict(results),
        "leads_per_s": round(len(due) / due_s, 1) if due_s else None,
        "all_due": {
            "leads": len(due),
            "seconds": round(due_s, 1),
            "results": dict(Counter(str(r["result"]) for r in due)),
        },
        "prompt_tokens_per_draft": {
            "mean": round(statistics.fmean(prompt), 1) if prompt else None,
            "max": max(prompt, default=None),
        },
        "completion_tokens_per_draft": {
            "mean": round(statistics.fmean(completion), 1) if completion else None,
            "max": max(completion, default=None),
        },
        "drafts": len(drafts),
    }


def run(*, n_leads: int = 10_000, sample: int = 300) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nurture-bench-agent-") as tmp:
        start = time.perf_counter()
        runtime = build_store(Path(tmp), n_leads)
        setup_s = time.perf_counter() - start
        result = measure(runtime, sample=sample)
        runtime.engine.dispose()
    return {
        "leads": n_leads,
        "model": "offline",
        "setup_s": round(setup_s, 1),
        **result,
        "method": __doc__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(n_leads=args.leads, sample=args.sample)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
