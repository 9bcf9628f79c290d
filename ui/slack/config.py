"""Slack settings: who may decide (Slack user id -> role, name, lead owner), where cards go."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.settings import Settings

ROLES = ("sdr", "manager")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
SETTING = "NURTURE_SLACK_USERS"


class SlackConfigError(ValueError):
    """Slack settings that cannot work; the message names the setting and how to fix it."""


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    role: str  # sdr | manager
    name: str
    owner: str  # the value of a lead's `owner` column this person stands for

    @property
    def label(self) -> str:
        """How decisions are recorded: readable and still traceable to the Slack account."""
        return f"{self.name} ({self.user_id})" if self.name != self.user_id else self.user_id


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str | None
    signing_secret: str | None
    api_base_url: str
    sdr_channel: str | None
    users: dict[str, SlackUser] = field(default_factory=dict)
    approval_remind_hours: float = 4.0
    approval_escalate_hours: float = 8.0
    handoff_remind_hours: float = 1.0
    task_remind_hours: float = 4.0
    task_escalate_hours: float = 16.0
    business_timezone: str = "UTC"

    @property
    def can_post(self) -> bool:
        return bool(self.bot_token)

    @property
    def can_receive(self) -> bool:
        return bool(self.bot_token and self.signing_secret)

    @property
    def managers(self) -> list[SlackUser]:
        return [u for u in self.users.values() if u.role == "manager"]

    def may_decide(self, user_id: str) -> bool:
        return user_id in self.users

    def label(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.label if user else user_id

    def owner_user(self, owner: str | None) -> SlackUser | None:
        """The SDR who owns a lead (by the lead's `owner` value), if mapped."""
        if not owner:
            return None
        wanted = owner.strip().casefold()
        for user in self.users.values():
            if wanted in (user.owner.casefold(), user.name.casefold(), user.user_id.casefold()):
                return user
        return None


def load_slack_config(settings: Settings) -> SlackConfig:
    """Slack settings, checked: a bad user map is refused with the entry and what to write."""
    users = parse_users(settings.slack_users) if settings.slack_users else {}
    if settings.approval_escalate_hours <= settings.approval_remind_hours:
        raise SlackConfigError(
            f"NURTURE_APPROVAL_ESCALATE_HOURS ({settings.approval_escalate_hours:g}) must be more "
            f"than NURTURE_APPROVAL_REMIND_HOURS ({settings.approval_remind_hours:g})"
        )
    if settings.task_escalate_hours <= settings.task_remind_hours:
        raise SlackConfigError(
            f"NURTURE_TASK_ESCALATE_HOURS ({settings.task_escalate_hours:g}) must be more "
            f"than NURTURE_TASK_REMIND_HOURS ({settings.task_remind_hours:g})"
        )
    channel = (settings.slack_sdr_channel or "").strip() or None
    if channel and channel.startswith("#"):
        raise SlackConfigError(
            f"SLACK_SDR_CHANNEL must be a channel id such as C0123ABCD, not the name {channel!r} "
            "(in Slack: channel details > About > Channel ID)"
        )
    base = settings.slack_api_base_url
    return SlackConfig(
        bot_token=settings.slack_bot_token or None,
        signing_secret=settings.slack_signing_secret or None,
        api_base_url=base if base.endswith("/") else base + "/",
        sdr_channel=channel,
        users=users,
        approval_remind_hours=settings.approval_remind_hours,
        approval_escalate_hours=settings.approval_escalate_hours,
        handoff_remind_hours=settings.handoff_remind_hours,
        task_remind_hours=settings.task_remind_hours,
        task_escalate_hours=settings.task_escalate_hours,
        business_timezone=settings.business_timezone,
    )


def parse_users(value: str) -> dict[str, SlackUser]:
    """The user map from JSON text, or from the YAML/JSON file it names."""
    text = value.strip()
    source = SETTING
    if not text.startswith("{"):
        path = Path(text).expanduser()
        source = f"{SETTING} file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SlackConfigError(
                f"{SETTING}: cannot read {path} ({exc.strerror}); give JSON such as "
                '{"U0SDR1": {"name": "Asha Rao", "role": "sdr"}} or the path of a YAML file'
            ) from None
    try:
        raw = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        raise SlackConfigError(f"{source} is neither valid JSON nor YAML: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise SlackConfigError(
            f"{source} must map Slack user ids to a role, e.g. "
            '{"U0SDR1": {"name": "Asha Rao", "role": "sdr"}, "U0MGR1": "manager"}'
        )
    return {str(uid): _user(str(uid), entry, source) for uid, entry in raw.items()}


def _user(user_id: str, entry: Any, source: str) -> SlackUser:
    where = f"{source}: {user_id!r}"
    if not USER_ID.match(user_id):
        raise SlackConfigError(
            f"{where} is not a Slack user id (U or W and capitals/digits, e.g. U0123ABCD; "
            "in Slack: profile > ... > Copy member ID)"
        )
    if isinstance(entry, str):
        entry = {"role": entry}
    if not isinstance(entry, dict):
        raise SlackConfigError(f"{where} must be a role or an object with role, name, owner")
    unknown = set(entry) - {"role", "name", "owner"}
    if unknown:
        raise SlackConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    role = str(entry.get("role", "")).strip().lower()
    if role not in ROLES:
        raise SlackConfigError(f"{where}.role must be sdr or manager, got {entry.get('role')!r}")
    name = str(entry.get("name") or user_id).strip()
    owner = str(entry.get("owner") or name).strip()
    return SlackUser(user_id=user_id, role=role, name=name, owner=owner)
