"""Trigger rules as data: validated models and the YAML loader with errors a marketer can act on."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from store.schemas import KNOWN_EVENT_TYPES

RULES_FILE = Path(__file__).with_name("triggers.yaml")
# nurture's own send of a touch: rules on it watch what the lead did not do (open the emails).
TOUCH_SENT = "touch_sent"
ENGAGED = ("email_open", "email_click", "email_reply")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
Stage = Literal["problem", "solution", "vendor", "decision"]
Channel = Literal["email", "video", "sdr_task"]
ActionKind = Literal["run_agent", "hand_off", "stop", "pause"]


class TriggerError(ValueError):
    """A trigger file that cannot be used; the message names the file, the rule and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventMatch(_Strict):
    """Events of these types whose properties match every `where` entry (globs, any case)."""

    type: list[str] = Field(min_length=1)
    where: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("type")
    @classmethod
    def _known(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in KNOWN_EVENT_TYPES and value != TOUCH_SENT:
                known = ", ".join(sorted([*KNOWN_EVENT_TYPES, TOUCH_SENT]))
                raise ValueError(f"{value!r} is not an event type nurture knows ({known})")
        return values

    @field_validator("where", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def matches(self, kind: str, properties: Mapping[str, Any] | None) -> bool:
        if kind not in self.type:
            return False
        props = properties or {}
        for name, patterns in self.where.items():
            value = props.get(name)
            if value is None or not _globs(tuple(patterns)).match(str(value)):
                return False
        return True


@lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the glob patterns, case-insensitive, as one compiled expression."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE)


class Count(_Strict):
    at_least: int = Field(ge=2, le=100)
    within_days: float = Field(gt=0, le=365)


class FollowUp(_Strict):
    after_days: float = Field(gt=0, le=365)
    silent_on: list[str] = Field(default_factory=list, description="empty: any event")


class Hint(_Strict):
    """What the rule suggests to the agent; the hard rules (opt-out, caps, fatigue) still win."""

    stage: Stage | None = None
    theme: str | None = Field(None, max_length=120)
    query: str | None = Field(None, max_length=200)
    channel: Channel | None = None
    angle: Literal["usual", "different"] | None = None
    # next: once the firing is due, the lead's touches come from the next colleague in
    # NURTURE_ALT_SENDERS (tools.senders); same (or unset): nothing changes.
    sender: Literal["same", "next"] | None = None


class Action(_Strict):
    kind: ActionKind
    trigger: str | None = Field(None, max_length=64, description="default: the event type")
    hint: Hint | None = None
    reason: str | None = Field(None, max_length=300)
    days: int | None = Field(None, ge=1, le=90)
    long_days: int | None = Field(None, ge=1, le=90)

    @model_validator(mode="after")
    def _fits_kind(self) -> Action:
        if self.kind == "pause" and self.days is None:
            raise ValueError("a pause needs days (how long, e.g. 10)")
        if self.kind != "pause" and (self.days is not None or self.long_days is not None):
            raise ValueError(f"days and long_days belong to a pause, not to {self.kind}")
        return self


class Rule(_Strict):
    name: str
    description: str = ""
    enabled: bool = True
    events: list[EventMatch] = Field(min_length=1)
    max_age_hours: float | None = Field(48.0, gt=0)
    count: Count | None = None
    dormant_days: float | None = Field(None, gt=0)
    unopened_at_least: int | None = Field(None, ge=1, le=50)
    follow_up: FollowUp | None = None
    cooldown_hours: float = Field(0.0, ge=0)
    action: Action

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a rule name: lower-case letters, digits and dashes "
                "(e.g. pricing-interest)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        on_sends = any(TOUCH_SENT in match.type for match in self.events)
        if on_sends and any(set(match.type) - {TOUCH_SENT} for match in self.events):
            raise ValueError("a rule on touch_sent watches sends only; put events in another rule")
        if self.unopened_at_least is not None and not on_sends:
            raise ValueError("unopened_at_least applies to rules on touch_sent")
        if on_sends and (self.count or self.dormant_days or self.follow_up):
            raise ValueError("count, dormant_days and follow_up apply to lead events")
        return self

    @property
    def on_sends(self) -> bool:
        return any(TOUCH_SENT in match.type for match in self.events)

    def matches(self, kind: str, properties: Mapping[str, Any] | None) -> bool:
        return any(match.matches(kind, properties) for match in self.events)

    @property
    def event_types(self) -> set[str]:
        return {kind for match in self.events for kind in match.type}


class RuleSet(_Strict):
    version: int = 1
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; names must be unique")
            seen.add(rule.name)
        return self

    @property
    def active(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled]

    def rank(self, name: str) -> int:
        """A rule's place in the file (strongest first); unknown names come last."""
        names = [rule.name for rule in self.rules]
        return names.index(name) if name in names else len(names)


def parse_rules(data: Any, *, source: str = "trigger rules") -> RuleSet:
    """Validate parsed YAML; errors say `source: rules[2] (name).field: what is wrong`."""
    if not isinstance(data, Mapping) or "rules" not in data:
        raise TriggerError(f"{source}: expected a mapping with a `rules:` list")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_where(err['loc'], data)}{_message(err)}" for err in exc.errors()]
        raise TriggerError("\n".join(lines)) from None


def load_rules(path: Path | str | None = None) -> RuleSet:
    """The rules in `path` (default: the shipped file), cached until the file changes."""
    target = Path(path) if path is not None else RULES_FILE
    try:
        stat = target.stat()
    except OSError:
        raise TriggerError(
            f"{target}: no such trigger file (set NURTURE_TRIGGERS_FILE to a YAML file)"
        ) from None
    return _load(str(target), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> RuleSet:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TriggerError(f"{path}: not valid YAML ({exc})") from None
    return parse_rules(data, source=path)


def _where(loc: tuple[Any, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            item = node[key] if isinstance(node, list) and key < len(node) else None
            label = f"[{key + 1}]"
            if isinstance(item, Mapping) and item.get("name"):
                label += f" ({item['name']})"
            parts[-1] = parts[-1] + label if parts else label
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, Mapping) else None
    return ".".join(parts) + ": " if parts else ""


def _message(error: Any) -> str:
    kind, message = error["type"], str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if "input" in error and kind not in ("value_error", "model_type", "dict_type"):
        return f"{message} (got {error['input']!r})"
    return message
