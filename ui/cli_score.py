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
    "", "--include", help="Comma-separated columns to keep even if the leakage guard flags them.")
TIME = typer.Option(
    None, "--time-column", help="Date (or order) column: evaluate on the latest 20 % of rows.")


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
        result = benchmark_frame(frame, target, id_column=id_column, exclude=_columns(exclude),
                                 include=_columns(include), time_column=time_column,
                                 rules=rule_set)
    except ScoringError as exc:
        raise _fail(exc) from exc
    result["data"] = str(data)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(summary(result))
    typer.echo(f"wrote {json_out}")


@app.command("train")
def train(
    data: Path = DATA,
    target: str = TARGET,
    out: Path = typer.Option(..., "--out", help="Directory for the model version."),
    id_column: str | None = ID,
    sep: str | None = SEP,
    exclude: str = EXCLUDE,
    include: str = INCLUDE,
    time_column: str | None = TIME,
) -> None:
    """Fit a scorer on every row of a CSV export and save it as a model version."""
    try:
        frame = read_leads_csv(data, sep)
        scorer, report = train_from_frame(frame, target, id_column=id_column,
                                          exclude=_columns(exclude), include=_columns(include),
                                          time_column=time_column)
        manifest = save_model(scorer, out, training_data_sha256=file_sha256(data),
                              metrics=report.metrics, excluded=report.excluded, target=target,
                              rows=report.rows, positive_rate=report.positive_rate)
    except ScoringError as exc:
        raise _fail(exc) from exc
    typer.echo(summary({"model": report.metrics, "excluded": report.excluded,
                        "rows": report.rows, "positive_rate": report.positive_rate}))
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
