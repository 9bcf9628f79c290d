"""`nurture tasks list|done`: the personal videos and SDR steps people deliver, without Slack."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.runtime import open_runtime
from store.db import session_scope
from tools.outbox.tasks import TaskError, complete_task, list_tasks

app = typer.Typer(
    help="Delivery tasks: personal videos to record and SDR steps, listed and marked done.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    status: Annotated[str, typer.Option(help="open | done | all")] = "open",
    assignee: Annotated[str | None, typer.Option(help="only this owner's tasks")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The tasks, oldest first: what to record or do, for which lead."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            tasks = list_tasks(session, status=status, assignee=assignee, limit=limit)
    except TaskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(tasks, indent=2))
        return
    if not tasks:
        typer.echo(f"No {status} tasks." if status != "all" else "No tasks.")
        return
    for task in tasks:
        company = f" ({task['company']})" if task["company"] else ""
        owner = f" for {task['assignee']}" if task["assignee"] else ""
        done = f", done by {task['done_by']} {task['done_at']}" if task["done_by"] else ""
        typer.echo(
            f"#{task['id']} {task['kind_label']}{owner}: {task['lead']}{company} "
            f"(since {task['created_at']}{done})"
        )
        typer.echo(f"  {task['title']}")


@app.command("done")
def done_command(
    task_id: Annotated[int, typer.Argument(help="the task's id (nurture tasks list)")],
    by: Annotated[str, typer.Option(help="who did it")],
) -> None:
    """Mark a task done; the first one to say so is recorded (Slack's card shows it)."""
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            task = complete_task(session, task_id, by)
            typer.echo(f"Task #{task.id} done by {task.done_by}.")
    except TaskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
