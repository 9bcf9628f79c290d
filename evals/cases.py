"""Eval cases: a lead, what it did (relative times), and how the agent must behave."""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.schemas import KNOWN_EVENT_TYPES, parse_timestamp
from tools.guardrails import injection_signals
from tools.schemas import ActionKind, Stage

DATASETS_DIR = Path(__file__).parent / "datasets"
DEFAULT_CASES = str(DATASETS_DIR / "nurture*.yaml")
DEFAULT_POPULATION = DATASETS_DIR / "population.yaml"
# A Wednesday, 10:00 UTC: inside the send window of most time zones the cases use.
DEFAULT_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
# Free-text keys a lead fills in (agent/nurture/context.py reads the same ones).
NOTE_KEYS = ("notes", "message", "comment", "comments", "question")

Result = Literal["scheduled", "handed_off", "waiting", "held", "awaiting_approval"]
Mention = Literal["name", "company", "role", "trigger"]
_RELATIVE = re.compile(r"^\s*-\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>m|min|h|d|w)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CASE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class DatasetError(ValueError):
    """A case file is malformed; the message names the file, the case and the field."""


def moment(value: str | datetime, now: datetime) -> datetime:
    """'-2d', '-3h', '-45m', '-1w' before `now`, 'now', or an ISO-8601 time."""
    if isinstance(value, datetime):
        return parse_timestamp(value)
    text = str(value).strip()
    if text == "now":
        return now
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match["unit"]]: float(match["n"])})
    try:
        return parse_timestamp(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use '-2d', '-3h', '-45m', '-1w', 'now' or ISO-8601"
        ) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventSpec(_Strict):
    """One thing the lead did: `at` is relative to the run's clock ('-2d')."""

    type: str
    at: str = "-1d"
    path: str | None = None
    title: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in KNOWN_EVENT_TYPES:
            known = ", ".join(sorted(KNOWN_EVENT_TYPES))
            raise ValueError(f"unknown event type {value!r}; use one of {known}")
        return value

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        moment(value, DEFAULT_NOW)
        return value

    def all_properties(self) -> dict[str, Any]:
        extra = {"path": self.path, "title": self.title}
        return {**{k: v for k, v in extra.items() if v is not None}, **self.properties}


class TouchSpec(_Strict):
    """A touch nurture already sent (cadence and fatigue rules read them)."""

    at: str
    channel: Literal["email", "video"] = "email"

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        moment(value, DEFAULT_NOW)
        return value


class LeadSpec(_Strict):
    """The lead record as a CRM export would give it (validated like an import)."""

    email: str | None = None  # default: <case id>@eval.example
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    industry: str | None = None
    company_size: int | None = None
    role: str | None = None
    country: str | None = None
    timezone: str | None = None
    source: str | None = None
    consent: bool = True
    do_not_email: bool = False
    lifecycle_stage: Literal["lead", "mql", "sql", "customer", "disqualified"] = "lead"
    attributes: dict[str, Any] = Field(default_factory=dict)
    suppressed: bool = False  # on the suppression list (an earlier unsubscribe or bounce)


class Expect(_Strict):
    """What the agent must do for the case; unset fields are not checked."""

    action: ActionKind | None = None
    result: Result | None = None
    stage: Stage | None = None  # the content stage the touch and its call to action serve
    approval: bool | None = None  # True: must wait for a human; False: must not
    hand_off: bool | None = None  # True: must go to an SDR; False: must not
    no_email: bool = False  # nothing may be drafted or scheduled for this lead
    mention: list[Mention] | None = None  # None: name, company and role when the lead has them
    steps: list[str] = Field(default_factory=list)  # graph steps that must run, in this order
    tools: list[str] = Field(default_factory=list)  # tools that must be used, in this order
    forbidden: list[str] = Field(default_factory=list)  # steps or tools that must not run
    max_tokens: int | None = None  # model tokens for the whole pass


class Twin(_Strict):
    """The same case without the injected text (what the decision must not differ from)."""

    notes: str | None = None
    lead: dict[str, Any] = Field(default_factory=dict)


class Case(_Strict):
    id: str
    description: str = ""
    segment: str = ""  # a label for reports: tofu, mofu, late, re-engage, enterprise, ...
    must_pass: bool = False
    lead: LeadSpec
    events: list[EventSpec] = Field(default_factory=list)
    touches: list[TouchSpec] = Field(default_factory=list)
    notes: str | None = None  # a form note in the lead's own words (stored as an attribute)
    trigger: str | None = None  # the event type that woke the agent
    twin: Twin | None = None
    expect: Expect = Field(default_factory=Expect)
    file: str = ""  # set by the loader

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _CASE_ID.match(value):
            raise ValueError(f"{value!r}: use lowercase letters, digits and '-'")
        return value

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str | None) -> str | None:
        if value is not None and value not in KNOWN_EVENT_TYPES:
            raise ValueError(f"unknown trigger {value!r}; use an event type")
        return value

    @property
    def email(self) -> str:
        return self.lead.email or f"{self.id}@eval.example"

    @property
    def injected(self) -> bool:
        """Lead-provided text here tries to instruct the agent."""
        return bool(self.twin) or bool(_injected_texts(self))

    def without_injection(self) -> Case:
        """The twin: notes, fields and event notes that try to instruct are taken out."""
        twin = self.twin or Twin()
        lead = self.lead.model_dump()
        for key in ("first_name", "last_name", "company", "role"):
            if lead.get(key) and injection_signals(str(lead[key])):
                lead[key] = None
        lead.update(twin.lead)
        events = [
            event.model_copy(
                update={
                    "properties": {
                        k: v
                        for k, v in event.properties.items()
                        if not (k in NOTE_KEYS and injection_signals(str(v)))
                    }
                }
            )
            for event in self.events
        ]
        return self.model_copy(
            update={
                "id": f"{self.id}~twin",
                "lead": LeadSpec.model_validate(lead),
                "notes": twin.notes,
                "events": events,
                "twin": None,
            }
        )


def _injected_texts(case: Case) -> list[str]:
    lead = case.lead
    texts = [case.notes, lead.first_name, lead.last_name, lead.company, lead.role]
    texts += [str(v) for e in case.events for k, v in e.properties.items() if k in NOTE_KEYS]
    return [t for t in texts if t and injection_signals(t)]


class PopulationLead(LeadSpec):
    events: list[EventSpec] = Field(default_factory=list)


class Dataset(BaseModel):
    """The cases of a run, the other leads in every case's store, and the run's clock."""

    cases: list[Case]
    population: list[PopulationLead]
    now: datetime
    files: list[str]
    sha256: str  # of every file read, in order: two runs on the same data share it

    def case(self, case_id: str) -> Case:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)


def load_dataset(
    cases: str | None = None,
    *,
    population: Path | None = DEFAULT_POPULATION,
    now: datetime | None = None,
) -> Dataset:
    """Cases from the files a glob matches (default: evals/datasets/nurture*.yaml), or, when
    no file matches, the default cases whose id matches the glob (`--cases 'injection-*'`)."""
    pattern = cases or DEFAULT_CASES
    files = sorted(glob.glob(pattern, recursive=True))
    id_filter = None
    if not files:
        if "/" in pattern or pattern.endswith((".yaml", ".yml")):
            raise DatasetError(f"{pattern}: no case file matches")
        id_filter, files = pattern, sorted(glob.glob(DEFAULT_CASES))
    digest = hashlib.sha256()
    loaded: list[Case] = []
    clocks: dict[str, datetime] = {}
    for path in files:
        raw = _read(Path(path), digest)
        if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
            raise DatasetError(f"{path}: expected a mapping with a 'cases' list")
        if raw.get("now") is not None:
            clocks[path] = _clock(path, raw["now"])
        loaded += [_case(path, number, entry) for number, entry in enumerate(raw["cases"], 1)]
    if id_filter is not None:
        loaded = [case for case in loaded if fnmatch.fnmatch(case.id, id_filter)]
        if not loaded:
            raise DatasetError(f"no case id matches {id_filter!r} (and no file does)")
    _unique(loaded)
    if len(set(clocks.values())) > 1:
        raise DatasetError(
            "the case files set different 'now' values ("
            + ", ".join(f"{p}: {c.isoformat()}" for p, c in clocks.items())
            + "); give them one clock"
        )
    people = _population(population, digest) if population is not None else []
    _no_shared_emails(loaded, people)
    return Dataset(
        cases=loaded,
        population=people,
        now=now or next(iter(clocks.values()), DEFAULT_NOW),
        files=[*files, *([str(population)] if population is not None else [])],
        sha256=digest.hexdigest(),
    )


def _read(path: Path, digest: Any) -> Any:
    try:
        data = path.read_bytes()
        digest.update(data)
        return yaml.safe_load(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read the case file ({exc})") from exc


def _clock(path: str, value: Any) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise DatasetError(f"{path}: 'now': {exc}") from None


def _case(path: str, number: int, entry: Any) -> Case:
    where = f"{path}: case {number}"
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        where += f" ({entry['id']})"
    if not isinstance(entry, dict):
        raise DatasetError(f"{where}: expected a mapping with id, lead and expect")
    try:
        return Case.model_validate({**entry, "file": path})
    except ValidationError as exc:
        raise DatasetError(f"{where}: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'case'}: {error['msg']}"
        for error in exc.errors()[:5]
    )


def _unique(cases: list[Case]) -> None:
    seen: dict[str, str] = {}
    for case in cases:
        if case.id in seen:
            raise DatasetError(f"{case.file}: case id {case.id!r} is also used in {seen[case.id]}")
        seen[case.id] = case.file


def _population(path: Path, digest: Any) -> list[PopulationLead]:
    raw = _read(path, digest)
    if not isinstance(raw, dict) or not isinstance(raw.get("population"), list):
        raise DatasetError(f"{path}: expected a mapping with a 'population' list")
    people = []
    for number, entry in enumerate(raw["population"], 1):
        try:
            person = PopulationLead.model_validate(entry)
        except ValidationError as exc:
            raise DatasetError(f"{path}: lead {number}: {_problems(exc)}") from None
        if not person.email:
            raise DatasetError(f"{path}: lead {number}: 'email' is required")
        people.append(person)
    return people


def _no_shared_emails(cases: list[Case], people: list[PopulationLead]) -> None:
    taken = {str(p.email).lower() for p in people}
    for case in cases:
        if case.email.lower() in taken:
            raise DatasetError(
                f"{case.file}: case {case.id}: {case.email} is also a population lead; "
                "give the case its own address"
            )
