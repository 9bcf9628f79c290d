"""`nurture bench NAME --json OUT`: every benchmark of the project."""

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Reproducible speed and quality benchmarks (print JSON).", no_args_is_help=True
)


def write_result(result: dict, out: Path | None) -> None:
    """Print the JSON result, and save it when --json OUT is given."""
    text = json.dumps(result, indent=2)
    typer.echo(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")


@app.command("ingest")
def ingest(
    out: Annotated[Path | None, typer.Option("--json", help="write the JSON result here")] = None,
    events: Annotated[int, typer.Option(help="events for the import path")] = 50_000,
    http_events: Annotated[int, typer.Option(help="events for the HTTP path")] = 20_000,
    sqlite_only: Annotated[bool, typer.Option(help="skip PostgreSQL")] = False,
) -> None:
    """Events/s through `nurture import events` and POST /events (batches of 500)."""
    from benchmarks import ingest as bench

    backends = ("sqlite",) if sqlite_only else ("sqlite", "postgres")
    write_result(bench.run(n_events=events, n_http_events=http_events, backends=backends), out)
