"""Slack settings: the user map (JSON or a YAML file), roles, owners, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings
from ui.slack.config import SlackConfigError, load_slack_config, parse_users
from ui.slack.text import chunks, escape, markdown_to_mrkdwn


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_json_map_with_roles_names_and_owners() -> None:
    users = parse_users(
        '{"U0SDR1": {"name": "Asha Rao", "role": "sdr", "owner": "asha"}, "W0MGR1": "manager"}'
    )
    assert users["U0SDR1"].label == "Asha Rao (U0SDR1)"
    assert users["W0MGR1"].label == "W0MGR1" and users["W0MGR1"].role == "manager"
    config = load_slack_config(
        settings(NURTURE_SLACK_USERS='{"U0SDR1": {"name": "Asha Rao", "role": "SDR"}}')
    )
    assert config.may_decide("U0SDR1") and not config.may_decide("U0OTHER")
    # A lead's owner matches the owner name, the display name or the id, in any case.
    assert config.owner_user("asha rao") is config.users["U0SDR1"]
    assert config.owner_user("nobody") is None and config.owner_user(None) is None


def test_a_yaml_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "slack-users.yaml"
    path.write_text("U0SDR1:\n  name: Asha Rao\n  role: sdr\n  owner: asha\nU0MGR1: manager\n")
    config = load_slack_config(settings(NURTURE_SLACK_USERS=str(path), SLACK_SDR_CHANNEL="C01"))
    assert [u.user_id for u in config.managers] == ["U0MGR1"]
    assert config.owner_user("ASHA") is config.users["U0SDR1"]
    assert config.sdr_channel == "C01" and not config.can_post


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"asha": "sdr"}', "'asha' is not a Slack user id"),
        ('{"U0SDR1": "boss"}', "'U0SDR1'.role must be sdr or manager, got 'boss'"),
        ('{"U0SDR1": {"role": "sdr", "team": "x"}}', "unknown key(s) team"),
        ('{"U0SDR1": ["sdr"]}', "must be a role or an object"),
        ("{not json", "neither valid JSON nor YAML"),
        ("/nowhere/users.yaml", "cannot read /nowhere/users.yaml"),
        ("{}", "must map Slack user ids to a role"),
    ],
)
def test_bad_user_maps_are_refused_by_name(value: str, message: str) -> None:
    with pytest.raises(SlackConfigError, match="NURTURE_SLACK_USERS") as caught:
        parse_users(value)
    assert message in str(caught.value)


def test_channel_names_and_backwards_hours_are_refused() -> None:
    with pytest.raises(SlackConfigError, match="channel id such as C0123ABCD"):
        load_slack_config(settings(SLACK_SDR_CHANNEL="#sdr"))
    with pytest.raises(SlackConfigError, match=r"ESCALATE_HOURS .* must be more"):
        load_slack_config(
            settings(NURTURE_APPROVAL_REMIND_HOURS=8, NURTURE_APPROVAL_ESCALATE_HOURS=4)
        )
    with pytest.raises(SlackConfigError, match=r"NURTURE_TASK_ESCALATE_HOURS \(4\) must be more"):
        load_slack_config(settings(NURTURE_TASK_REMIND_HOURS=8, NURTURE_TASK_ESCALATE_HOURS=4))


def test_the_api_url_always_ends_with_a_slash() -> None:
    config = load_slack_config(settings(SLACK_API_BASE_URL="http://127.0.0.1:9/api"))
    assert config.api_base_url == "http://127.0.0.1:9/api/"


def test_lead_text_cannot_mention_or_link() -> None:
    assert escape("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
    text = markdown_to_mrkdwn("**Opening:** see [the <guide>](https://x.example/g) & more")
    assert text == "*Opening:* see <https://x.example/g|the &lt;guide&gt;> &amp; more"


def test_long_text_is_split_where_slack_accepts_it() -> None:
    pieces = chunks("\n".join(["word " * 100] * 20), limit=1200)
    assert all(len(p) <= 1200 for p in pieces) and len(pieces) > 1
    assert "".join(pieces).replace("\n", "") == ("word " * 100 * 20).replace("\n", "")
    assert chunks("x" * 2500, limit=1000) == ["x" * 1000, "x" * 1000, "x" * 500]
