"""`nurture slack status|remind`: check the Slack settings, run one pass of Slack upkeep."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.runtime import open_runtime
from agent.settings import get_settings

app = typer.Typer(
    help="Slack for SDRs: approval cards, hand-offs, tasks, reminders.", no_args_is_help=True
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("status")
def status() -> None:
    """What nurture will do in Slack with the current settings (no Slack call is made)."""
    from ui.slack.config import SlackConfigError, load_slack_config

    settings = get_settings()
    try:
        config = load_slack_config(settings)
    except SlackConfigError as exc:
        raise _fail(str(exc), 2) from None
    receive = "on" if config.can_receive else "off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)"
    post = "on" if config.can_post else "off (set SLACK_BOT_TOKEN)"
    typer.echo(f"POST /slack/events: {receive}")
    typer.echo(f"cards and reminders: {post} · Slack API {config.api_base_url}")
    typer.echo(f"SDR channel: {config.sdr_channel or '(none: only leads with a mapped owner)'}")
    for user in config.users.values():
        typer.echo(f"  {user.user_id}  {user.role:<7}  {user.name} (owner {user.owner!r})")
    if not config.users:
        typer.echo("  nobody may decide yet: set NURTURE_SLACK_USERS")
    typer.echo(
        f"approvals: remind after {config.approval_remind_hours:g}, escalate after "
        f"{config.approval_escalate_hours:g} business hours; hand-offs: remind "
        f"{config.handoff_remind_hours:g} business hour(s) before the SLA, escalate on breach "
        f"({config.business_timezone})"
    )


@app.command("remind")
def remind(
    as_json: Annotated[bool, typer.Option("--json", help="print the counts as JSON")] = False,
) -> None:
    """Post cards for new drafts, hand-offs and tasks, update cards decided or done elsewhere,
    send due reminders and escalations (once each). The worker runs the same pass on a
    schedule."""
    from ui.slack import slack_reminders
    from ui.slack.config import SlackConfigError

    try:
        result = slack_reminders(open_runtime())
    except SlackConfigError as exc:
        raise _fail(str(exc), 2) from None
    if as_json:
        typer.echo(json.dumps(result))
        return
    if not result.get("enabled"):
        typer.echo(f"Slack is off: {result.get('reason')}")
        return
    counts = {k: v for k, v in result.items() if k != "enabled"}
    typer.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do")
