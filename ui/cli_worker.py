"""`nurture worker`: the scheduler that acts on triggers, runs the agent, sends due touches and
(with SLACK_BOT_TOKEN) keeps the Slack cards up to date."""

from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Annotated, Any

import typer

from agent.runtime import open_runtime
from agent.settings import get_settings


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="run each job once (triggers, agent, send) and exit")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="with --once: print JSON")] = False,
) -> None:
    """Run the scheduler: trigger actions every few seconds, due leads every few minutes, due
    touches through the outbox (file or SMTP) and, with SLACK_BOT_TOKEN set, the Slack pass
    (cards, mirrored decisions, reminders). One worker per database leads; others wait."""
    from agent.wiring import WiringError
    from agent.worker import Worker
    from tools.triggers.rules import TriggerError
    from ui.slack.config import SlackConfigError
    from ui.slack.jobs import slack_jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    runtime = open_runtime(settings)
    try:
        extra = slack_jobs(settings)
    except SlackConfigError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    try:
        with Worker(runtime, extra_jobs=extra) as running:
            if once:
                _print_once(running.run_once(), as_json)
                return
            slack = f"Slack every {settings.slack_interval_s:g} s" if extra else "Slack off"
            typer.echo(
                f"nurture worker · {runtime.engine.url.render_as_string(hide_password=True)} · "
                f"outbox {settings.outbox} · triggers every {settings.trigger_interval_s:g} s, "
                f"sends every {settings.send_interval_s:g} s, agent every "
                f"{settings.agent_interval_s:g} s, {slack} (Ctrl-C stops)"
            )
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            running.serve(stop, on_standby=typer.echo)
    except (WiringError, TriggerError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None


def _print_once(report: dict[str, dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report))
        return
    for job, counts in report.items():
        text = ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "nothing due"
        typer.echo(f"{job:<12} {text}")
