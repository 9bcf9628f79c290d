"""`nurture experiment create|list|show|add-variant|stop` and `nurture report experiments`:
bandit tests of variants, and nurture's uplift over the holdout."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from agent.runtime import open_runtime
from store.db import session_scope
from tools.bandit.experiments import (
    ExperimentError,
    add_variant,
    create_experiment,
    find_experiment,
    set_status,
)
from tools.bandit.report import experiment_view, experiments_report, overview
from tools.bandit.thompson import DEFAULT_FLOOR, DEFAULT_MIN_TRIALS, DEFAULT_THRESHOLD
from ui import cli_report

app = typer.Typer(
    help="Experiments: bandit tests of subjects, CTAs, video vs text and send hours.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
RefArg = Annotated[str, typer.Argument(help="the experiment's name or id")]


def register(root: typer.Typer) -> None:
    """`nurture experiment ...` and `nurture report experiments`."""
    root.add_typer(app, name="experiment")
    cli_report.app.command("experiments")(report_experiments)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="a unique name, e.g. mofu-subjects")],
    segment: Annotated[str, typer.Option(help="the segment tested, or '*' for every lead")],
    dimension: Annotated[str, typer.Option(help="subject | cta | format | send_hour_band")],
    objective: Annotated[str, typer.Option(help="reply | click | meeting (opens not allowed)")],
    variant: Annotated[
        list[str] | None,
        typer.Option(
            help="a variant (repeat); the first is the control. Subjects and CTAs "
            "may use {first_name}, {company}, {topic}, {cta}"
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="P(best) that declares a winner")] = (
        DEFAULT_THRESHOLD
    ),
    min_trials: Annotated[int, typer.Option(help="sends per arm before a winner")] = (
        DEFAULT_MIN_TRIALS
    ),
    floor: Annotated[float, typer.Option(help="least share of sends per arm")] = DEFAULT_FLOOR,
    as_json: JsonOpt = False,
) -> None:
    """Start an experiment; with fewer than two variants the next drafts supply challengers."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            experiment = create_experiment(
                session,
                name=name,
                segment=segment,
                dimension=dimension,
                objective=objective,
                variants=variant or [],
                threshold=threshold,
                min_trials=min_trials,
                floor=floor,
            )
            view = experiment_view(session, experiment)
    except ExperimentError as exc:
        raise _fail(str(exc)) from None
    _show(view, as_json)


@app.command("list")
def list_experiments(
    status: Annotated[str | None, typer.Option(help="running | paused | done")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every experiment with its sends, successes and leading arm."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        views = experiments_report(session, status=status)
    if as_json:
        typer.echo(json.dumps(views))
        return
    if not views:
        typer.echo("no experiments yet: `nurture experiment create --help`")
    for view in views:
        typer.echo(_headline(view))


@app.command("show")
def show(ref: RefArg, as_json: JsonOpt = False) -> None:
    """One experiment: its arms, their rates with 95 % intervals, P(best) and the verdict."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            view = experiment_view(session, find_experiment(session, ref))
    except ExperimentError as exc:
        raise _fail(str(exc)) from None
    _show(view, as_json)


@app.command("add-variant")
def add_variant_command(
    ref: RefArg,
    value: Annotated[str, typer.Argument(help="the variant text (or text|video, or 9-11)")],
    as_json: JsonOpt = False,
) -> None:
    """Add a marketer's variant: active while fewer than four are, else it waits for the
    next round."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            experiment = find_experiment(session, ref)
            assert experiment.id is not None
            add_variant(session, experiment_id=experiment.id, value=value)
            view = experiment_view(session, experiment)
    except ExperimentError as exc:
        raise _fail(str(exc)) from None
    _show(view, as_json)


@app.command("stop")
def stop(
    ref: RefArg,
    status: Annotated[str, typer.Option(help="paused | done | running")] = "done",
) -> None:
    """Stop (or pause, or resume) an experiment; the control keeps being sent elsewhere."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            experiment = find_experiment(session, ref)
            assert experiment.id is not None
            set_status(session, experiment_id=experiment.id, status=status)
    except ExperimentError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"experiment {experiment.name}: {status}")


def report_experiments(as_json: JsonOpt = False) -> None:
    """Experiments (arms, P(best), winners) and nurture's uplift over the holdout cohort."""
    runtime = open_runtime()
    settings = runtime.settings
    with session_scope(runtime.engine) as session:
        report = overview(session, share=settings.holdout_share, salt=settings.holdout_salt)
    if as_json:
        typer.echo(json.dumps(report))
        return
    h = report["holdout"]
    typer.echo(
        f"Holdout ({h['holdout_share'] * 100:.0f} % of leads, plain drip): conversion to SQL or "
        f"won {_pct(h['nurtured_rate'])} nurtured ({h['nurtured']:,} leads) vs "
        f"{_pct(h['holdout_rate'])} holdout ({h['holdout']:,} leads)"
    )
    typer.echo(f"  {h['verdict_text']}")
    typer.echo("")
    if not report["experiments"]:
        typer.echo("no experiments yet: `nurture experiment create --help`")
    for view in report["experiments"]:
        _print_view(view)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _headline(view: dict[str, Any]) -> str:
    leader = max(view["arms"], key=lambda a: a["p_best"] or 0, default=None)
    lead = f"; leader {leader['value']!r} P(best) {leader['p_best']}" if leader else ""
    return (
        f"#{view['id']} {view['name']} [{view['status']}, round {view['round']}] "
        f"{view['segment']} · {view['dimension']} · {view['objective']}: {view['sends']:,} sends, "
        f"{view['successes']:,} successes{lead}"
    )


def _print_view(view: dict[str, Any]) -> None:
    typer.echo(_headline(view))
    for arm in view["arms"]:
        mark = "control" if arm["control"] else arm["status"]
        low, high = arm["rate_ci"]
        typer.echo(
            f"  [{mark:>7}] {arm['value'][:60]:<60} {arm['successes']:>5}/{arm['trials']:<6} "
            f"{_pct(arm['rate']):>7} (CI {low * 100:.1f}-{high * 100:.1f} %) "
            f"P(best) {arm['p_best'] if arm['p_best'] is not None else '-'}"
        )
    verdict = view["verdict"]
    if verdict:
        typer.echo(f"  verdict: {verdict['reason']}")


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(view))
    else:
        _print_view(view)
