"""`nurture import leads|events|outcomes FILE`: validated, all-or-nothing file imports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from agent import ingest
from agent.runtime import open_runtime

app = typer.Typer(help="Import leads, events and outcomes from CSV or JSONL.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="CSV (separator sniffed) or JSONL file")]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="import the good rows; write bad ones to a reject file"),
]
RejectOpt = Annotated[Path | None, typer.Option("--reject-file", help="where rejected rows go")]
SepOpt = Annotated[str | None, typer.Option("--sep", help="CSV separator (default: sniffed)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the report as JSON")]


def run_import(
    action: Callable[..., ingest.ImportReport], path: Path, as_json: bool, **kw: Any
) -> None:
    """Run one import and print its report; any refusal exits 1 with the reasons, no traceback."""
    runtime = open_runtime()
    try:
        report = action(runtime.engine, path, **kw)
    except ingest.ImportRejected as exc:
        typer.echo(f"error: {path}: {exc}", err=True)
        for line in ingest.iter_lines(exc.errors):
            typer.echo(f"  {line}", err=True)
        if exc.hint:
            typer.echo(exc.hint, err=True)
        raise typer.Exit(1) from None
    except ingest.IngestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    parts = [f"{k} {v}" for k, v in report.as_dict().items() if isinstance(v, int) and k != "rows"]
    typer.echo(f"{report.kind}: {report.rows} rows read; " + ", ".join(parts))
    if report.reject_file:
        typer.echo(f"{report.rejected} invalid row(s) written to {report.reject_file}:")
        for line in ingest.iter_lines(report.errors, limit=10):
            typer.echo(f"  {line}")


def parse_map(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise typer.BadParameter(f"{pair!r}: use --map field=column, e.g. --map email='E-mail'")
        mapping[field.strip()] = column.strip()
    return mapping


@app.command("leads")
def leads(
    path: FileArg,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column, repeatable (e.g. --map company='Account Name')"),
    ] = None,
    sep: SepOpt = None,
    skip_invalid: SkipOpt = False,
    reject_file: RejectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import leads; re-importing the same file changes nothing (matched by email)."""
    run_import(
        ingest.import_leads,
        path,
        as_json,
        mapping=parse_map(map_ or []),
        sep=sep,
        skip_invalid=skip_invalid,
        reject_path=reject_file,
    )


@app.command("events")
def events(
    path: FileArg,
    sep: SepOpt = None,
    skip_invalid: SkipOpt = False,
    reject_file: RejectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import behavioural events; duplicates (same event id) are stored once."""
    run_import(
        ingest.import_events,
        path,
        as_json,
        sep=sep,
        skip_invalid=skip_invalid,
        reject_path=reject_file,
    )


@app.command("outcomes")
def outcomes(
    path: FileArg,
    sep: SepOpt = None,
    skip_invalid: SkipOpt = False,
    reject_file: RejectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import won / lost / rejected-MQL outcomes (columns lead_email, kind, occurred_at, ...)."""
    run_import(
        ingest.import_outcomes,
        path,
        as_json,
        sep=sep,
        skip_invalid=skip_invalid,
        reject_path=reject_file,
    )
