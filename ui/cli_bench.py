"""`nurture bench NAME --json OUT`: every benchmark of the project."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Reproducible speed and quality benchmarks (print JSON).", no_args_is_help=True
)

JsonOut = Annotated[Path | None, typer.Option("--json", help="write the JSON result here")]
DataDir = Annotated[
    Path, typer.Option("--data-dir", help="folder holding the public lead datasets")
]


def write_result(result: dict, out: Path | None) -> None:
    """Print the JSON result, and save it when --json OUT is given."""
    text = json.dumps(result, indent=2)
    typer.echo(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")


@app.command("ingest")
def ingest(
    out: JsonOut = None,
    events: Annotated[int, typer.Option(help="events for the import path")] = 50_000,
    http_events: Annotated[int, typer.Option(help="events for the HTTP path")] = 20_000,
    sqlite_only: Annotated[bool, typer.Option(help="skip PostgreSQL")] = False,
) -> None:
    """Events/s through `nurture import events` and POST /events (batches of 500)."""
    from benchmarks import ingest as bench

    backends = ("sqlite",) if sqlite_only else ("sqlite", "postgres")
    write_result(bench.run(n_events=events, n_http_events=http_events, backends=backends), out)


def scoring_speed(data_dir: Path) -> dict[str, Any]:
    """Hook for the store-backed speed figures of `bench scoring` (rescore_1m_s, peak MB).

    Returns the keys to merge into the scoring result: a full rescore of 1,000,000 synthetic
    leads from SQLite and the single-lead live path (method: benchmarks/rescore.py). The
    method notes go under `rescore_method`, so they do not read as the quality method.
    """
    from benchmarks import rescore

    result = rescore.run()
    result["rescore_method"] = result.pop("method")
    return result


@app.command("scoring")
def scoring(
    out: JsonOut = None,
    data_dir: DataDir = Path("../shared/data"),
) -> None:
    """Scoring quality on the real datasets (X Education, bank marketing) plus speed."""
    from benchmarks import scoring_quality

    _require_dir(data_dir)
    write_result({**scoring_quality.run(data_dir), **scoring_speed(data_dir)}, out)


def _require_dir(data_dir: Path) -> None:
    if not data_dir.is_dir():
        typer.secho(
            f"error: data folder {data_dir} not found (pass --data-dir)",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=2)


@app.command("scoring-breadth")
def scoring_breadth(
    out: JsonOut = None,
    data_dir: DataDir = Path("../shared/data"),
) -> None:
    """The scorer against an untuned logistic regression on 19 tables (about 10 minutes)."""
    from benchmarks import scoring_breadth

    _require_dir(data_dir)
    write_result(scoring_breadth.run(data_dir), out)


@app.command("rescore")
def rescore_speed(
    out: JsonOut = None,
    leads: Annotated[int, typer.Option("--leads", help="leads in the store")] = 1_000_000,
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="temp data here (default: system temp)")
    ] = None,
) -> None:
    """Full rescore of N synthetic leads from SQLite (time, peak MB) and the live path."""
    from benchmarks import rescore

    if leads < rescore.SAMPLE_LEADS:
        typer.secho(
            f"error: --leads must be at least {rescore.SAMPLE_LEADS:,}",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=2)
    write_result(rescore.run(n_leads=leads, workdir=workdir), out)


@app.command("retrieval")
def retrieval(
    out: JsonOut = None,
    index_chunks: Annotated[int, typer.Option(help="chunks in the timed indexing")] = 1_000,
    query_chunks: Annotated[int, typer.Option(help="chunks in the index when querying")] = 10_000,
    embed_all: Annotated[
        bool, typer.Option(help="embed every query-time chunk with the model (slow)")
    ] = False,
) -> None:
    """Knowledge base: index 1,000 chunks, query p50/p95 at 10,000, embedding speed, recall@3."""
    from benchmarks import retrieval as bench

    if index_chunks < 1 or query_chunks < index_chunks:
        typer.secho(
            "error: --index-chunks must be at least 1 and --query-chunks at least as many",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=2)
    write_result(
        bench.run(index_chunks=index_chunks, query_chunks=query_chunks, embed_all=embed_all), out
    )


@app.command("agent")
def agent(
    out: JsonOut = None,
    leads: Annotated[int, typer.Option(help="synthetic leads in the store")] = 10_000,
    sample: Annotated[int, typer.Option(help="single-lead passes timed")] = 300,
) -> None:
    """Nurture step latency, --all-due leads/s and tokens per draft (offline model)."""
    from benchmarks import agent as bench

    write_result(bench.run(n_leads=leads, sample=sample), out)


@app.command("bandit")
def bandit(
    out: JsonOut = None,
    sends: Annotated[int, typer.Option(help="sends per simulated campaign")] = 10_000,
    runs: Annotated[int, typer.Option(help="campaigns per variant count (2, 3 and 4)")] = 200,
    batch: Annotated[int, typer.Option(help="sends between posterior updates")] = 100,
) -> None:
    """Thompson sampling vs an explore-then-commit A/B test: replies lost (seeded simulation)."""
    from benchmarks import bandit as bench

    if sends < 100 or runs < 1 or not 1 <= batch <= sends:
        typer.secho(
            "error: --sends must be at least 100, --runs at least 1, --batch between 1 and --sends",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=2)
    write_result(bench.run(sends=sends, runs=runs, batch=batch), out)


@app.command("slack")
def slack(
    out: JsonOut = None,
    leads: Annotated[int, typer.Option(help="synthetic leads in the store")] = 2_000,
    clicks: Annotated[int, typer.Option(help="approve clicks timed, one after another")] = 30,
) -> None:
    """Slack: click acknowledgement time and click-to-updated-card time (real agent wiring)."""
    from benchmarks import slack as bench

    if clicks < 1:
        typer.secho("error: --clicks must be at least 1", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    write_result(bench.run(n_leads=leads, clicks=clicks), out)


@app.command("triggers")
def triggers(
    out: JsonOut = None,
    leads: Annotated[int, typer.Option(help="leads in the store for the event runs")] = 2_000,
    events: Annotated[int, typer.Option(help="events through ingestion")] = 20_000,
    http_events: Annotated[int, typer.Option(help="events posted to POST /events")] = 10_000,
    sim_leads: Annotated[int, typer.Option(help="sample leads in the simulation")] = 100,
    days: Annotated[int, typer.Option(help="simulated days")] = 60,
) -> None:
    """Events/s through ingestion with the trigger rules, event-to-action latency p50/p99, and a
    simulation of sending (touches per lead, cap violations, sends to opted-out leads)."""
    from benchmarks import triggers as bench

    if min(leads, events, http_events, sim_leads, days) < 1:
        typer.secho("error: every count must be at least 1", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    write_result(
        bench.run(
            n_leads=leads,
            n_events=events,
            n_http_events=http_events,
            sim_leads=sim_leads,
            days=days,
        ),
        out,
    )
