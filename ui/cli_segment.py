"""`nurture segment run|clusters|show`: rule segments, behavioural clusters, one lead's history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.runtime import open_runtime
from store import crud
from store.db import session_scope
from tools.segments.assign import resegment_all
from tools.segments.clusters import refresh_clusters
from tools.segments.errors import SegmentError
from tools.segments.membership import membership_history
from tools.segments.rules import Definitions, default_definitions, load_definitions
from ui.when import plain_when

app = typer.Typer(help="Segments: rule segments and behavioural clusters.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
DefinitionsOpt = Annotated[
    Path | None,
    typer.Option("--definitions", help="segment definitions YAML (default: the built-in file)"),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _definitions(path: Path | None) -> Definitions:
    try:
        return load_definitions(path) if path is not None else default_definitions()
    except SegmentError as exc:
        raise _fail(str(exc)) from None


def _stamp(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


@app.command("run")
def run(definitions: DefinitionsOpt = None, as_json: JsonOpt = False) -> None:
    """Re-evaluate the rule segments of every lead; print members per segment."""
    parsed = _definitions(definitions)
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        result = resegment_all(session, definitions=parsed)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"{result['leads']} leads segmented: {result['changed']} changed "
        f"({result['entered']} entered, {result['exited']} exited)"
    )
    for name, count in result["segments"].items():
        typer.echo(f"  {count:>7}  {name}")


@app.command("clusters")
def clusters(as_json: JsonOpt = False) -> None:
    """Refresh the behavioural clusters; print each cluster's label, size and standout features."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            result = refresh_clusters(session)
    except SegmentError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    typer.echo(
        f"{result.k} clusters over {result.leads} leads (silhouette {result.silhouette:.3f}; "
        f"{result.excluded} leads out of nurture not clustered)"
    )
    for info in result.clusters:
        standout = "; ".join(
            f"{feature.replace('_', ' ')} {info.means[feature]:.1f} on average "
            f"(all leads {result.overall_means[feature]:.1f})"
            for feature in info.distinguishing
        )
        typer.echo(f"  {info.size:>7}  {info.label:<45} {info.segment}")
        if standout:
            typer.echo(f"           stands out: {standout}")


@app.command("show")
def show(
    lead_id: Annotated[int, typer.Argument(help="the lead's id")], as_json: JsonOpt = False
) -> None:
    """A lead's current segments and its membership history."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        if crud.get_lead(session, lead_id=lead_id) is None:
            raise _fail(f"no lead with id {lead_id}")
        current = crud.current_segments(session, lead_id=lead_id)
        history = membership_history(session, lead_id=lead_id)
    rows = [
        {**row, "entered_at": _stamp(row["entered_at"]), "exited_at": _stamp(row["exited_at"])}
        for row in history
    ]
    if as_json:
        typer.echo(json.dumps({"lead_id": lead_id, "segments": current, "history": rows}))
        return
    typer.echo(f"lead {lead_id}: {', '.join(current) or '(no segments)'}")
    for row in history:
        until = plain_when(row["exited_at"], year=True) if row["exited_at"] else "now"
        typer.echo(f"  {row['segment']:<40} {plain_when(row['entered_at'], year=True)} -> {until}")
