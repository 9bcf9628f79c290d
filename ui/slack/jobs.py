"""The Slack pass as a worker job: `nurture worker` and `nurture serve --worker` schedule it
every NURTURE_SLACK_INTERVAL seconds when SLACK_BOT_TOKEN is set."""

from __future__ import annotations

from typing import Any

from agent.settings import Settings
from agent.worker import ExtraJob
from agent.worker_jobs import JobContext, run_job
from ui.slack.config import load_slack_config

JOB_ID = "slack-upkeep"
# The job store keeps the job by this name; the function reaches the worker's context.
FUNCTION = "ui.slack.jobs:slack_pass_job"


def slack_jobs(settings: Settings) -> list[ExtraJob]:
    """The Slack job when Slack can be posted to, else none. A bad user map raises
    SlackConfigError (naming the setting) before the worker starts."""
    config = load_slack_config(settings)
    if not config.can_post:
        return []
    return [ExtraJob(JOB_ID, FUNCTION, settings.slack_interval_s)]


def slack_pass_job() -> dict[str, Any]:
    return run_job(JOB_ID, _slack_pass)


def _slack_pass(context: JobContext) -> dict[str, Any]:
    from ui.slack.reminders import slack_reminders

    if context.runtime is None:
        raise RuntimeError("the worker context has no runtime (Slack needs its settings)")
    result = slack_reminders(context.runtime, context.now())
    return {key: value for key, value in result.items() if key != "enabled"}
