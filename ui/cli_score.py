"""`nurture score ...`: train, evaluate and apply lead-scoring models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tools.scoring.data import file_sha256, read_leads_csv
from tools.scoring.errors import ScoringError
from tools.scoring.rules import load_rules
from tools.scoring.train import benchmark_frame, train_from_frame
from tools.scoring.versions import save_model

app = typer.Typer(help="Lead scoring: train, benchmark, rescore.", no_args_is_help=True)

METRIC_KEYS = ("auc", "brier", "top_decile_lift", "top_decile_vs_rest")

DATA = typer.Option(..., "--data", help="CSV export of leads with a known outcome.")
TARGET = typer.Option(..., "--target", help="Outcome column (1/0, yes/no, won/lost, ...).")
ID = typer.Option(None, "--id", help="Lead id column (never used as a feature).")
SEP = typer.Option(None, "--sep", help="Field separator; sniffed from the header if omitted.")
EXCLUDE = typer.Option("", "--exclude", help="Comma-separated columns to leave out.")
INCLUDE = typer.Option(
    "", "--include", help="Comma-separated columns to keep even if the leakage guard flags them."
)
TIME = typer.Option(
    None, "--time-column", help="Date (or order) column: evaluate on the latest 20 % of rows."
)
WORKERS = typer.Option(
    None,
    "--workers",
    min=1,
    help="Processes for a large rescore (default: one per core, up to 4; 1 = this one only).",
)


def _columns(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def _fail(exc: ScoringError) -> typer.Exit:
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


@app.command("benchmark")
def benchmark(
    data: Path = DATA,
    target: str = TARGET,
    json_out: Path = typer.Option(..., "--json", help="Write the figures here as JSON."),
    id_column: str | None = ID,
    sep: str | None = SEP,
    exclude: str = EXCLUDE,
    include: str = INCLUDE,
    time_column: str | None = TIME,
    rules: Path | None = typer.Option(None, "--rules", help="Rules YAML to compare against."),
) -> None:
    """Evaluate the predictive scorer (and a rules file) on a CSV without training for use."""
    try:
        frame = read_leads_csv(data, sep)
        rule_set = load_rules(rules) if rules else None
        result = benchmark_frame(
            frame,
            target,
            id_column=id_column,
            exclude=_columns(exclude),
            include=_columns(include),
            time_column=time_column,
            rules=rule_set,
        )
    except ScoringError as exc:
        raise _fail(exc) from exc
    result["data"] = str(data)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(summary(result))
    typer.echo(f"wrote {json_out}")


@app.command("train")
def train(
    data: Path | None = typer.Option(
        None, "--data", help="CSV export of leads with a known outcome (default: the store)."
    ),
    target: str | None = typer.Option(None, "--target", help="Outcome column of --data."),
    out: Path | None = typer.Option(None, "--out", help="Directory for a --data model version."),
    id_column: str | None = ID,
    sep: str | None = SEP,
    exclude: str = EXCLUDE,
    include: str = INCLUDE,
    time_column: str | None = TIME,
) -> None:
    """Train on the store's won/lost outcomes (or on a CSV export with --data/--target/--out)."""
    if data is None:
        retrain()
        return
    if target is None or out is None:
        raise typer.BadParameter("--data needs --target COLUMN and --out DIR")
    try:
        frame = read_leads_csv(data, sep)
        scorer, report = train_from_frame(
            frame,
            target,
            id_column=id_column,
            exclude=_columns(exclude),
            include=_columns(include),
            time_column=time_column,
        )
        manifest = save_model(
            scorer,
            out,
            training_data_sha256=file_sha256(data),
            metrics=report.metrics,
            excluded=report.excluded,
            target=target,
            rows=report.rows,
            positive_rate=report.positive_rate,
        )
    except ScoringError as exc:
        raise _fail(exc) from exc
    typer.echo(
        summary(
            {
                "model": report.metrics,
                "excluded": report.excluded,
                "rows": report.rows,
                "positive_rate": report.positive_rate,
            }
        )
    )
    typer.echo(f"saved model {manifest.version} to {out}")


def summary(result: dict[str, Any]) -> str:
    """A few lines a person reads: rows, exclusions with reasons, then one line per scorer."""
    lines = [f"{result['rows']} leads, {result['positive_rate']:.1%} converted"]
    excluded = result.get("excluded") or []
    if excluded:
        lines.append(f"left out {len(excluded)} column(s):")
        lines += [f"  - {e['column']}: {e['reason']}" for e in excluded]
    for name in ("model", "rules", "untuned_logistic"):
        metrics = result.get(name)
        if not metrics or "auc" not in metrics:
            continue
        figures = ", ".join(f"{k} {metrics[k]}" for k in METRIC_KEYS)
        split = f" [{metrics['split']}]" if "split" in metrics else ""
        lines.append(f"{name} ({metrics.get('kind', '?')}): {figures}{split}")
    return "\n".join(lines)


@app.command("retrain")
def retrain(workers: int | None = WORKERS) -> None:
    """Train a new version on the store's outcomes (incl. rejected MQLs), then rescore all leads."""
    from agent.runtime import open_runtime
    from store.db import session_scope
    from tools import lead_scoring

    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            version = lead_scoring.train_from_store(
                session, models_dir=runtime.settings.var_dir / "models"
            )
            metrics = version.metrics
        with session_scope(runtime.engine) as session:
            rescored = lead_scoring.rescore_all(
                session, workers=workers or lead_scoring.default_workers()
            )
    except ScoringError as exc:
        raise _fail(exc) from exc
    typer.echo(
        summary(
            {
                "model": metrics,
                "excluded": metrics.get("excluded", []),
                "rows": metrics["rows"],
                "positive_rate": metrics["positive_rate"],
            }
        )
    )
    typer.echo(f"active model {version.version}; rescored {rescored['leads']} leads")


@app.command("rescore")
def rescore(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    workers: int | None = WORKERS,
) -> None:
    """Rescore every lead in the store with the active model (or the rules baseline)."""
    from agent.runtime import open_runtime
    from store.db import session_scope
    from tools import lead_scoring

    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            result = lead_scoring.rescore_all(
                session, workers=workers or lead_scoring.default_workers()
            )
    except ScoringError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"rescored {result['leads']} leads with {result['version']}; "
        f"top decile from score {result['top_decile_min_score']}, {result['mqls']} MQLs"
    )


@app.command("show")
def show(lead: str = typer.Argument(..., help="Lead id or email")) -> None:
    """A lead's current score, decile, rules axes, segments and the factors behind the score."""
    from agent.runtime import open_runtime
    from store import crud
    from store.db import session_scope
    from tools import lead_scoring

    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        row = (
            crud.get_lead_by_email(session, email=lead)
            if "@" in lead
            else crud.get_lead(session, lead_id=int(lead))
            if lead.isdigit()
            else None
        )
        if row is None or row.id is None:
            typer.secho(f"error: no lead {lead!r}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=1)
        score = lead_scoring.score_leads(session, lead_ids=[row.id], explain_top=False)[0]
        factors = lead_scoring.factors_for(
            lead_scoring.current_scorer(session),
            lead_scoring.profile.profile_of(session, lead_id=row.id),
        )
        segments = crud.current_segments(session, lead_id=row.id)
    name = row.display_name
    typer.echo(f"{name} <{row.email}> · {row.role or 'role unknown'} at {row.company or '?'}")
    decile = (
        f"decile {score.decile}" if score.decile else "no decile yet (run nurture score rescore)"
    )
    typer.echo(
        f"score {score.score:.0f}/100 ({decile}) by {score.model_version}; "
        f"fit {score.fit:.0f}, behaviour {score.behaviour:.0f}; stage {row.lifecycle_stage}"
    )
    typer.echo("segments: " + (", ".join(segments) or "none"))
    for factor in factors:
        typer.echo(f"  {factor['direction']} {factor['factor']} ({factor['weight']:+})")
