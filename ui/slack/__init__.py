"""Slack for SDRs: approval cards, hand-offs with an SLA, tasks to do (videos to record, SDR
steps), reminders and escalations (Bolt)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ui.slack.mount import SlackEndpoint, mount_slack

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from agent.runtime import Runtime

__all__ = ["SlackEndpoint", "mount_slack", "slack_reminders"]


def slack_reminders(
    runtime: Runtime, now: datetime | None = None, *, client: WebClient | None = None
) -> dict[str, Any]:
    """Post missing cards, mirror decisions and tasks done elsewhere, remind and escalate.
    For a scheduler: cheap to call every few minutes; does nothing without SLACK_BOT_TOKEN."""
    from ui.slack.reminders import slack_reminders as run

    return run(runtime, now, client=client)
