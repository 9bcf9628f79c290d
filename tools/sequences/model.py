"""A nurture sequence as data: who enters, when they leave, and the timed steps in between."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from store.schemas import KNOWN_EVENT_TYPES

Stage = Literal["problem", "solution", "vendor", "decision"]
Channel = Literal["email", "video", "sdr_task"]
Lifecycle = Literal["lead", "mql", "sql", "customer", "disqualified"]
Status = Literal["active", "paused", "archived"]
STATUSES: tuple[str, ...] = ("active", "paused", "archived")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
# Segment names (tools/segments) with `*` wildcards: `mofu:*`, `tofu:financial-services`.
SEGMENT_PATTERN_RE = re.compile(r"^[a-z0-9*][a-z0-9:_.\-*]*$")
NURTURE_STAGES: list[Lifecycle] = ["lead", "mql"]
CLOSED_STAGES: list[Lifecycle] = ["sql", "customer", "disqualified"]


def _known_event(value: str) -> str:
    if value not in KNOWN_EVENT_TYPES:
        known = ", ".join(sorted(KNOWN_EVENT_TYPES))
        raise ValueError(f"{value!r} is not an event type nurture knows ({known})")
    return value


def _segment_patterns(values: list[str]) -> list[str]:
    for value in values:
        if not SEGMENT_PATTERN_RE.match(value):
            raise ValueError(
                f"{value!r} is not a segment name or pattern (lower case, e.g. mofu:* or "
                "enterprise)"
            )
    return values


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BranchTarget(_Strict):
    """Where a branch goes: a later step of this sequence (numbered from 1) or another one."""

    step: int | None = Field(None, ge=1)
    sequence: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> BranchTarget:
        if (self.step is None) == (self.sequence is None):
            raise ValueError("give exactly one of step (a step number) or sequence (a name)")
        return self


class Branch(_Strict):
    """Branch on behaviour after a step: `when` the lead does this within `within_days`."""

    when: str
    within_days: int = Field(7, ge=1, le=60)
    then: BranchTarget
    otherwise: BranchTarget | None = None  # default: carry on with the next step

    _event = field_validator("when")(_known_event)


class Step(_Strict):
    day: int = Field(ge=0, le=730, description="days after enrolment")
    stage: Stage
    theme: str = Field(min_length=1, max_length=80, description="what the touch is about")
    channel: Channel = "email"
    goal: str = Field(min_length=1, max_length=200, description="what the touch should achieve")
    content: str | None = Field(None, description="URL of the library asset the touch uses")
    branch: Branch | None = None


class SizeRange(_Strict):
    """Company size in people, inclusive; a lead whose size is unknown does not match."""

    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> SizeRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (people)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not be above max ({self.max})")
        return self

    def holds(self, size: int | None) -> bool:
        if size is None:
            return False
        return (self.min is None or size >= self.min) and (self.max is None or size <= self.max)


class EnrolRules(_Strict):
    """Leads enter when a current segment matches `segments`, none matches the exclusions, and
    the lead's industry and company size fit (when given). With `on_events`, a matching lead
    enters only the moment it does one of those events (e.g. content_download); once in, the
    rules without the event keep it there."""

    segments: list[str] = Field(min_length=1)
    exclude_segments: list[str] = Field(default_factory=lambda: ["excluded"])
    lifecycle: list[Lifecycle] = Field(default_factory=lambda: list(NURTURE_STAGES))
    industries: list[str] = Field(
        default_factory=list, description="industry slugs, e.g. financial-services; empty = any"
    )
    company_size: SizeRange | None = None
    on_events: list[str] = Field(default_factory=list)

    _patterns = field_validator("segments", "exclude_segments")(_segment_patterns)

    @field_validator("industries")
    @classmethod
    def _industries(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value):
                raise ValueError(
                    f"{value!r} is not an industry slug (lower case with dashes, e.g. "
                    "financial-services)"
                )
        return values

    @field_validator("on_events")
    @classmethod
    def _events(cls, values: list[str]) -> list[str]:
        return [_known_event(value) for value in values]


class ExitRules(_Strict):
    """A lead leaves on any of these events, lifecycle stages or segments."""

    events: list[str] = Field(default_factory=lambda: ["unsubscribe", "bounce"])
    lifecycle: list[Lifecycle] = Field(default_factory=lambda: list(CLOSED_STAGES))
    segments: list[str] = Field(default_factory=lambda: ["excluded"])

    _patterns = field_validator("segments")(_segment_patterns)

    @field_validator("events")
    @classmethod
    def _events(cls, values: list[str]) -> list[str]:
        return [_known_event(value) for value in values]


class Evergreen(_Strict):
    """After the last step: one touch every `every_days` until the lead leaves."""

    every_days: int = Field(30, ge=14, le=90)
    stage: Stage = "solution"
    theme: str = Field("what's new", min_length=1, max_length=80)
    channel: Channel = "email"


class SequenceDefinition(_Strict):
    """One sequence. Among active sequences a lead may enter, the highest `priority` wins."""

    name: str
    description: str = ""
    goal: str = ""
    priority: int = Field(10, ge=0, le=100)
    enrol: EnrolRules
    exit: ExitRules = Field(default_factory=ExitRules)
    steps: list[Step] = Field(min_length=1, max_length=24)
    evergreen: Evergreen | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a sequence name: lower-case letters, digits and dashes "
                "(e.g. enterprise-track), at most 120 characters"
            )
        return value

    @model_validator(mode="after")
    def _steps_in_order(self) -> SequenceDefinition:
        days = [step.day for step in self.steps]
        for number, (before, after) in enumerate(pairwise(days), 2):
            if after <= before:
                raise ValueError(
                    f"step {number} (day {after}) must come after step {number - 1} "
                    f"(day {before}): days must increase"
                )
        for number, step in enumerate(self.steps, 1):
            if step.branch is None:
                continue
            for target in (step.branch.then, step.branch.otherwise):
                if target is None:
                    continue
                if target.step is not None and not number < target.step <= len(self.steps):
                    raise ValueError(
                        f"step {number} branches to step {target.step}; it must be a later "
                        f"step of this sequence (up to {len(self.steps)})"
                    )
                if target.sequence == self.name:
                    raise ValueError(
                        f"step {number} branches to its own sequence; use a step number"
                    )
        return self

    @property
    def span_days(self) -> int:
        return self.steps[-1].day

    def as_data(self) -> dict[str, Any]:
        """The JSON-ready form stored in the `sequence` table."""
        return self.model_dump(mode="json", exclude_none=True)


def format_errors(exc: ValidationError, data: Any) -> list[str]:
    """Pydantic errors as `where: what` lines a marketer can act on (steps numbered from 1)."""
    lines = []
    for error in exc.errors():
        where = _where(error["loc"], data)
        kind, message = error["type"], error["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = "unknown field (check the spelling)"
        elif kind == "missing":
            message = "required field is missing"
        elif "input" in error and kind not in ("value_error", "model_type", "dict_type"):
            message = f"{message} (got {error['input']!r})"
        lines.append(f"{where}: {message}" if where else message)
    return lines


def _where(loc: tuple[Any, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key + 1}]"
            item = node[key] if isinstance(node, list) and key < len(node) else None
            if parts and parts[-1] == "steps" and isinstance(item, dict) and "day" in item:
                label += f" (day {item['day']})"
            parts[-1] = parts[-1] + label if parts else label
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)
