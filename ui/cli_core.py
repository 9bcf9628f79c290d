"""Top-level commands: demo, serve, status, migrate."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.runtime import open_runtime
from agent.settings import Settings, get_settings
from ui.when import plain_when


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("serve")(serve)
    app.command("status")(status)
    app.command("migrate")(migrate)


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Run the main job on the embedded defaults (SQLite, embedded Chroma, offline model)."""
    from agent import demo as demo_job

    runtime = open_runtime()
    loaded = demo_job.load_sample(runtime)
    scored = demo_job.score_and_segment(runtime)
    summary = demo_job.store_summary(runtime)
    content = demo_job.index_content(runtime)
    agent = demo_job.run_agent(runtime)
    if as_json:
        result = {
            "loaded": loaded,
            "scored": scored,
            "store": summary,
            "content": content,
            "agent": agent,
        }
        typer.echo(json.dumps(result, default=str))
        return
    settings = runtime.settings
    typer.echo(
        f"nurture demo · database {settings.resolved_database_url}"
        f" · model {settings.model_provider}"
    )
    typer.echo(f"sample data: {loaded['sample_dir']}")
    for kind in ("leads", "events", "outcomes"):
        r = loaded[kind]
        typer.echo(
            f"  import {kind:<8} {r['rows']:>6} rows: {r['inserted']} new"
            + (f", {r['updated']} updated" if r.get("updated") else "")
            + (
                f", {r['duplicates'] + r['unchanged']} already stored"
                if r["duplicates"] + r["unchanged"]
                else ""
            )
        )
    _print_summary(summary)
    _print_scoring(scored)
    typer.echo(
        f"\nContent library: {content['added']} added, {content['updated']} updated, "
        f"{content['removed']} removed, {content['unchanged']} unchanged; "
        f"{content['chunks_embedded']} chunks embedded, {content['chunks_total']} indexed"
        + (
            f" (replacing {', '.join(content['dropped_collections'])}, an earlier model's index)"
            if content.get("dropped_collections")
            else ""
        )
    )
    _print_agent(agent, settings)


def _print_agent(agent: dict, settings: Settings) -> None:
    from agent.models.factory import describe_model

    results = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in agent["results"].items())
    typer.echo(
        f"\nAgent ({describe_model(settings)}): ran {agent['leads']} due leads, hottest first"
        + (f": {results}" if results else "; none was due (run again after new events)")
    )
    typer.echo(
        f"Waiting for people: {agent['pending_approvals']} drafts to approve, "
        f"{agent['pending_handoffs']} hand-offs for SDRs"
    )
    card = agent["approval_example"]
    if card:
        lead, draft = card["lead"], card["draft"]
        known = ", ".join(part for part in (lead["role"], lead["company"]) if part)
        typer.echo(
            f"\nApproval #{card['id']}: {lead['name']}{f' ({known})' if known else ''}, "
            f"score {lead['score']:.0f}, decile {lead['decile']}"
        )
        typer.echo(f"  why: {'; '.join(map(str, lead['factors']))}")
        typer.echo(f"  {draft['kind']}: {draft['subject']}")
        for line in draft["body"].strip().splitlines()[:14]:
            typer.echo(f"  | {line}")
        typer.echo(f"  sources: {', '.join(draft['sources'])}")
    handoff = agent["handoff_example"]
    if handoff:
        typer.echo(
            f"\nHand-off #{handoff['id']} for lead #{handoff['lead_id']}: {handoff['why_now']}"
        )
        typer.echo(f"  SLA: decide by {plain_when(handoff['sla_due_at'], year=True)}")
        for line in (handoff["talk_track"] or "").strip().splitlines()[:8]:
            typer.echo(f"  | {line}")
    typer.echo(
        "\nNext: nurture approvals list · nurture approvals approve ID · "
        "nurture agent run --all-due"
    )


def _print_scoring(scored: dict) -> None:
    model = scored["model"]
    trained = "trained now" if model["newly_trained"] else "already trained"
    typer.echo(
        f"\nScoring model {model['version']} ({trained}, {model['kind']}): "
        f"cross-validated AUC {model['auc']}, top decile converts "
        f"{model['top_decile_vs_rest']}x the rest, {model['rows']} closed leads"
    )
    rescored = scored["rescored"]
    typer.echo(
        f"Rescored {rescored['leads']:,} leads; top decile starts at score "
        f"{rescored['top_decile_min_score']:.0f}; {rescored['mqls']} pass the MQL rule"
    )
    typer.echo("\nSegments:")
    for name, count in scored["segments"].items():
        typer.echo(f"  {name:<28} {count:>6,}")
    typer.echo(
        "Behavioural clusters: "
        + ", ".join(f"{c['segment']} ({c['size']})" for c in scored["clusters"])
    )
    typer.echo("\nTop open leads:")
    for lead in scored["top_leads"]:
        typer.echo(
            f"  #{lead['lead_id']} {lead['name']} ({lead['role'] or 'role unknown'}, "
            f"{lead['company'] or 'no company'}): score {lead['score']:.0f}, "
            f"decile {lead['decile']}; {', '.join(lead['segments'])}"
        )
        typer.echo(f"      why: {'; '.join(lead['factors'])}")


def _print_summary(summary: dict) -> None:
    typer.echo("\nIn the store:")
    for name, count in summary["tables"].items():
        typer.echo(f"  {name:<20} {count:>8,}")
    typer.echo("\nEvents by type:")
    for kind, count in summary["event_types"].items():
        typer.echo(f"  {kind:<20} {count:>8,}")
    if summary["outcomes"]:
        typer.echo("\nOutcomes: " + ", ".join(f"{k} {v:,}" for k, v in summary["outcomes"].items()))


def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show what is in the store."""
    from agent import demo as demo_job

    summary = demo_job.store_summary(open_runtime())
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        _print_summary(summary)


def migrate() -> None:
    """Create or upgrade the database schema (runs automatically on every command)."""
    runtime = open_runtime()
    typer.echo(f"schema up to date on {runtime.engine.url.render_as_string(hide_password=True)}")


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default NURTURE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default NURTURE_PORT)")] = None,
    worker: Annotated[
        bool, typer.Option("--worker", help="also run the scheduler (as `nurture worker`)")
    ] = False,
) -> None:
    """Serve the HTTP app: POST /events, GET /health, /unsubscribe (chat and Slack mount here)."""
    import threading
    from contextlib import ExitStack

    import uvicorn

    from ui.http import create_app

    settings = get_settings()
    runtime = open_runtime(settings)
    with ExitStack() as stack:
        if worker:
            from agent.worker import Worker
            from ui.slack.config import SlackConfigError
            from ui.slack.jobs import slack_jobs

            try:
                extra = slack_jobs(settings)  # the Slack pass, as `nurture worker` runs it
            except SlackConfigError as exc:
                typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
                raise typer.Exit(code=2) from None
            running = stack.enter_context(Worker(runtime, extra_jobs=extra))
            stop = threading.Event()
            stack.callback(stop.set)
            running.serve_in_background(stop)
        uvicorn.run(
            create_app(runtime),
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
        )
