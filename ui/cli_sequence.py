"""`nurture sequence list|show|import|pause|resume|sync`: the nurture sequences in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from agent.runtime import open_runtime
from store.db import session_scope
from tools.sequences import (
    SequenceError,
    get_sequence,
    list_sequences,
    load_sequence_file,
    save_sequence,
    sequence_detail,
    sequence_summary,
    set_status,
    sync_library,
)

app = typer.Typer(help="Nurture sequences: list, show, import, pause.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
NameArg = Annotated[str, typer.Argument(help="the sequence's name (see `nurture sequence list`)")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _with_library(session: Session) -> list[str]:
    """The shipped sequences are added on first use (stored ones are never overwritten)."""
    return sync_library(session)["added"]


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="only active, paused or archived sequences")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every stored sequence: status, audience, touches and days."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            added = _with_library(session)
            rows = [sequence_summary(row) for row in list_sequences(session, status=status)]
    except SequenceError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if added:
        typer.echo(f"(added the shipped sequences: {', '.join(added)})")
    if not rows:
        typer.echo("no sequences" + (f" with status {status}" if status else ""))
        return
    typer.echo(f"{'name':<28} {'status':<9} {'touches':>7} {'days':>5}  enrols")
    for row in rows:
        typer.echo(
            f"{row['name']:<28} {row['status']:<9} {row['touches']:>7} {row['days']:>5}  "
            f"{', '.join(row['enrol_segments'])}"
        )


@app.command("show")
def show(name: NameArg, as_json: JsonOpt = False) -> None:
    """One sequence: who enters, when they leave, and every step."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            _with_library(session)
            detail = sequence_detail(get_sequence(session, name))
    except SequenceError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(detail))
        return
    _print_detail(detail)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="a sequence YAML file")],
    status: Annotated[
        str | None, typer.Option(help="active or paused (default: keep, or active when new)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a YAML sequence and save it (a stored name is updated in place)."""
    try:
        definition = load_sequence_file(file)
    except SequenceError as exc:
        raise _fail(str(exc)) from None
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            existed = _exists(session, definition.name)
            summary = sequence_summary(save_sequence(session, definition, status=status))
    except SequenceError as exc:
        raise _fail(str(exc)) from None
    summary["action"] = "updated" if existed else "created"
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"{summary['action']} sequence {summary['name']} ({summary['status']}): "
        f"{summary['touches']} touches over {summary['days']} days"
    )


@app.command("pause")
def pause(name: NameArg) -> None:
    """Pause a sequence: nothing is sent from it and nobody enters it."""
    _set(name, "paused")


@app.command("resume")
def resume(name: NameArg) -> None:
    """Make a paused (or archived) sequence active again."""
    _set(name, "active")


@app.command("sync")
def sync(
    overwrite: Annotated[
        bool, typer.Option(help="replace stored copies of the shipped sequences (keeps status)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Load the shipped sequences (tools/sequences/library) into the store."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            report = sync_library(session, overwrite=overwrite)
    except SequenceError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, names in report.items():
        if names:
            typer.echo(f"{key:<10} {', '.join(names)}")
    if report["kept"]:
        typer.echo("(kept: stored copies differ from the shipped ones; --overwrite replaces them)")


def _set(name: str, status: str) -> None:
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            _with_library(session)
            row = set_status(session, name, status)
    except SequenceError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"sequence {row.name} is {row.status}")


def _exists(session: Session, name: str) -> bool:
    try:
        get_sequence(session, name)
    except SequenceError:
        return False
    return True


def _size(bounds: dict[str, int]) -> str:
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None:
        return f"{low}-{high} people"
    return f"at least {low} people" if low is not None else f"up to {high} people"


def _print_detail(detail: dict[str, Any]) -> None:
    definition = detail["definition"]
    enrol, leave = definition["enrol"], definition.get("exit", {})
    typer.echo(f"{detail['name']} ({detail['status']}, priority {definition.get('priority')})")
    if detail["description"]:
        typer.echo(f"  {detail['description']}")
    if definition.get("goal"):
        typer.echo(f"  goal: {definition['goal']}")
    typer.echo(
        f"  enrols: {', '.join(enrol['segments'])}"
        + (
            f" (not {', '.join(enrol['exclude_segments'])})"
            if enrol.get("exclude_segments")
            else ""
        )
        + (f"; industries {', '.join(enrol['industries'])}" if enrol.get("industries") else "")
        + (f"; {_size(enrol['company_size'])}" if enrol.get("company_size") else "")
        + (f"; enters on {' or '.join(enrol['on_events'])}" if enrol.get("on_events") else "")
    )
    typer.echo(
        f"  exits on: {', '.join(leave.get('events', []))}; "
        f"stages {', '.join(leave.get('lifecycle', []))}"
    )
    typer.echo(f"\n  {'day':>4}  {'stage':<9} {'channel':<9} theme")
    for step in definition["steps"]:
        typer.echo(
            f"  {step['day']:>4}  {step['stage']:<9} {step.get('channel', 'email'):<9} "
            f"{step['theme']}"
        )
        if step.get("content"):
            typer.echo(f"        {step['content']}")
        branch = step.get("branch")
        if branch:
            then = branch["then"]
            target = f"step {then['step']}" if "step" in then else f"sequence {then['sequence']}"
            typer.echo(f"        if {branch['when']} within {branch['within_days']} days: {target}")
    evergreen = definition.get("evergreen")
    if evergreen:
        typer.echo(f"\n  then every {evergreen['every_days']} days: {evergreen['theme']}")
