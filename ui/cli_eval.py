"""`nurture eval run | report | list`: prompt regression evals from the command line.

Exit codes: 0 the gate passed, 1 it failed (a must-pass case failed, or a pass rate dropped
more than --max-drop against the baseline), 2 the run could not start.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.runtime import open_runtime
from store.db import session_scope

app = typer.Typer(
    help="Prompt regression evals: run the cases through the agent, gate, report.",
    no_args_is_help=True,
)
CANNOT_RUN = 2


def _fail(message: str, code: int = CANNOT_RUN) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("run")
def run(
    model: Annotated[
        str | None,
        typer.Option(
            help="offline | openai:NAME | compatible:URL:NAME (default: the configured model)"
        ),
    ] = None,
    prompts: Annotated[
        Path | None, typer.Option(help="a folder of prompt files to evaluate instead of prompts/")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="a stored run id to compare with, or 'latest'")
    ] = None,
    cases: Annotated[
        str | None,
        typer.Option(help="a glob of case files, or of case ids ('injection-*'); default: all"),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="cases run side by side")] = 4,
    max_drop: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="fail when a pass rate drops more than this"),
    ] = 0.05,
    judge: Annotated[
        str | None,
        typer.Option(help="LLM judge: a model spec or 'none' (default: the run's real model)"),
    ] = None,
    out: Annotated[Path | None, typer.Option("--json", help="write the result here")] = None,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="reuse stored answers of real models")
    ] = True,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Run every case through the nurture graph, evaluate, store the run and apply the gate.

    Exit code 0: the gate passed. 1: a must-pass case failed, or a pass rate (overall or of an
    evaluator) dropped more than --max-drop against --baseline. 2: the run could not start.
    """
    from evals.runner import EvalError, EvalOptions, run_evals

    runtime = open_runtime()
    options = EvalOptions(
        model=model,
        judge=judge,
        prompts_dir=prompts,
        cases=cases,
        baseline=baseline,
        concurrency=concurrency,
        max_drop=max_drop,
        cache=cache,
        progress=progress,
    )
    try:
        outcome = run_evals(runtime.settings, runtime.engine, options)
    except EvalError as exc:
        raise _fail(str(exc)) from None
    result = outcome.as_json()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    for line in _summary(result):
        typer.echo(line)
    raise typer.Exit(0 if outcome.passed else 1)


def _summary(result: dict[str, Any]) -> list[str]:
    passed = result["passed_cases"]
    lines = [
        f"eval run {result['run_id']}: {result['cases']} cases, pass rate "
        f"{result['pass_rate']:.0%} ({passed}/{result['cases']}), model {result['model']}",
        "  "
        + "  ".join(
            f"{name} {'—' if rate is None else f'{rate:.0%}'}"
            for name, rate in result["evaluator_rates"].items()
        ),
    ]
    must = result["must_pass"]
    lines.append(f"  must-pass: {must['cases'] - len(must['failures'])}/{must['cases']} passed")
    base = result.get("baseline")
    if base:
        lines.append(
            f"  against {base['run_id']}: pass rate {base['pass_rate']:.0%} -> "
            f"{base['pass_rate_now']:.0%} on {base['common_cases']} cases; "
            f"{len(base['regressed_cases'])} regressed, {len(base['improved_cases'])} improved, "
            f"{len(base['changed_drafts'])} drafts changed"
        )
    tokens = result["tokens"]
    latency = result.get("latency") or {}
    lines.append(
        f"  {tokens['total']:,} tokens, ${result['cost_usd']:.4f}, {result['model_calls']} model "
        f"requests ({result['cached_calls']} from cache), "
        f"{latency.get('mean_s', 0):.2f} s per case, {result['duration_s']:.1f} s in all"
    )
    lines += [f"  note: {note}" for note in result.get("notes", [])]
    gate = result["gate"]
    lines.append("gate: passed" if gate["passed"] else "gate: FAILED")
    lines += [f"  - {reason}" for reason in gate["reasons"]]
    return lines


@app.command("report")
def report(
    run_id: Annotated[str, typer.Argument(help="the run to report on")],
    html: Annotated[Path, typer.Option("--html", help="write the HTML report here")],
    baseline: Annotated[
        str | None, typer.Option(help="compare with this run (default: the run's own baseline)")
    ] = None,
) -> None:
    """Write the HTML report of a run: rates, regressions, improvements, changed drafts.

    Pass rates per evaluator and per case, what regressed or improved against the baseline
    (highlighted), and every changed draft beside the baseline's. No external assets.
    """
    from evals.records import RunRecord
    from evals.report import render_report

    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        record = RunRecord.load(session, run_id)
        if record is None:
            raise _fail(f"no eval run {run_id!r}; `nurture eval list` shows the stored runs")
        base_id = baseline or record.baseline_id
        base = RunRecord.load(session, base_id) if base_id else None
        if base_id and base is None:
            raise _fail(f"--baseline {base_id}: no such eval run")
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_report(record, base), encoding="utf-8")
    typer.echo(f"wrote {html}" + (f" ({run_id} against {base_id})" if base_id else ""))


@app.command("list")
def list_runs(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """The stored eval runs, newest first."""
    from store import crud

    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        runs = crud.list_eval_runs(session, limit=limit)
    if not runs:
        typer.echo("no eval run stored yet: nurture eval run --model offline")
    for row in runs:
        gate = "passed" if row.gate.get("passed") else "FAILED"
        typer.echo(
            f"{row.id}  {row.started_at:%Y-%m-%d %H:%M}  {row.model}  {row.cases} cases  "
            f"pass rate {row.pass_rate:.0%}  gate {gate}"
        )
