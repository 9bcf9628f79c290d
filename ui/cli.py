"""The `nurture` command: one entry point, a sub-command group per concern."""

from __future__ import annotations

import typer

from ui import (
    cli_agent,
    cli_bench,
    cli_core,
    cli_eval,
    cli_experiments,
    cli_import,
    cli_kb,
    cli_report,
    cli_score,
    cli_segment,
    cli_sequence,
    cli_slack,
    cli_tasks,
    cli_users,
    cli_worker,
)

app = typer.Typer(help="nurture: an AI lead-nurturing agent.", no_args_is_help=True)
cli_core.register(app)
cli_worker.register(app)
app.add_typer(cli_import.app, name="import")
app.add_typer(cli_score.app, name="score")
app.add_typer(cli_segment.app, name="segment")
app.add_typer(cli_bench.app, name="bench")
app.add_typer(cli_kb.app, name="kb")
app.add_typer(cli_agent.agent_app, name="agent")
app.add_typer(cli_agent.approvals_app, name="approvals")
app.add_typer(cli_sequence.app, name="sequence")
app.add_typer(cli_report.app, name="report")
app.add_typer(cli_eval.app, name="eval")
app.add_typer(cli_slack.app, name="slack")
app.add_typer(cli_users.app, name="users")
app.add_typer(cli_tasks.app, name="tasks")
cli_experiments.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
