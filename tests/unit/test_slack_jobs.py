"""The Slack pass as a worker job: scheduled only when Slack can be posted to, refused early
when its settings cannot work; the worker's hook for jobs from other layers checks them."""

from __future__ import annotations

import pytest

from agent.settings import Settings
from agent.worker import ExtraJob
from ui.slack.config import SlackConfigError
from ui.slack.jobs import slack_jobs


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_no_token_no_job() -> None:
    assert slack_jobs(settings(SLACK_SDR_CHANNEL="C01")) == []


def test_a_token_schedules_the_pass_at_the_configured_interval() -> None:
    assert slack_jobs(settings(SLACK_BOT_TOKEN="xoxb-1")) == [
        ExtraJob("slack-upkeep", "ui.slack.jobs:slack_pass_job", 60.0)
    ]
    [job] = slack_jobs(settings(SLACK_BOT_TOKEN="xoxb-1", NURTURE_SLACK_INTERVAL="15"))
    assert job.interval_s == 15.0


def test_a_bad_user_map_stops_the_worker_before_it_starts() -> None:
    with pytest.raises(SlackConfigError, match="NURTURE_SLACK_USERS"):
        slack_jobs(settings(SLACK_BOT_TOKEN="xoxb-1", NURTURE_SLACK_USERS='{"bob": "sdr"}'))


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (("extra", "ui.slack.jobs.slack_pass_job", 5.0), "must read 'module:function'"),
        (("send-due", "ui.slack.jobs:slack_pass_job", 5.0), "taken by one of the worker's"),
        (("extra", "ui.slack.jobs:slack_pass_job", 0.0), "more than 0 seconds"),
    ],
)
def test_extra_jobs_are_checked(job: tuple[str, str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExtraJob(*job)
