"""Rule segments defined in YAML, evaluated for one profile dict or a whole profile frame.

A definitions file has an `exclude` block (leads out of nurture get only its marker segment)
and an ordered list of `segments`. Segments that share a `group` are exclusive: the first one
in file order that matches wins, so order encodes precedence (re-engage, late, mofu, tofu).
Segments without a group are modifiers (e.g. `enterprise`) added on top. A name may hold
`{field}` placeholders filled with the slug of the lead's value (`tofu:{industry}` ->
`tofu:financial-services`); a missing value becomes the placeholder's `missing` text.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tools.segments.conditions import Condition, is_missing, parse_condition
from tools.segments.errors import DefinitionError

DEFAULT_PATH = Path(__file__).with_name("segments.yaml")
CLUSTER_PREFIX = "cluster:"
MAX_NAME = 80  # SegmentMembership.segment length
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9:_.\-]*$")
TOP_KEYS = {"version", "exclude", "segments"}
SEGMENT_KEYS = {"name", "group", "description", "when", "placeholders"}
PLACEHOLDER_KEYS = {"missing", "ignore"}


def slug(value: Any) -> str:
    """'Marketing & Advertising' -> 'marketing-advertising' (ASCII, lower case)."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Placeholder:
    missing: str = "unknown"
    ignore: frozenset[str] = frozenset()  # slugs treated as missing (e.g. non-course pages)

    def fill(self, value: Any) -> str:
        text = "" if is_missing(value) else slug(value)
        return self.missing if not text or text in self.ignore else text


@dataclass(frozen=True)
class SegmentRule:
    name: str  # may hold {field} placeholders
    when: Condition
    group: str | None = None
    description: str = ""
    placeholders: Mapping[str, Placeholder] = field(default_factory=dict)

    def render(self, profile: Mapping[str, Any]) -> str:
        if not self.placeholders:
            return self.name
        values = {name: spec.fill(profile.get(name)) for name, spec in self.placeholders.items()}
        return self.name.format(**values)[:MAX_NAME]

    def render_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """The rendered name for each row of `frame` (slugs computed once per distinct value)."""
        if not self.placeholders:
            return np.full(len(frame), self.name, dtype=object)
        values = {}
        for name, spec in self.placeholders.items():
            column = frame[name] if name in frame.columns else pd.Series([None] * len(frame))
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            filled = np.array([spec.fill(u) for u in uniques] + [spec.fill(None)], dtype=object)
            values[name] = filled[codes]  # code -1 (missing) picks the last entry
        return np.array(
            [
                self.name.format(**dict(zip(values, row, strict=True)))[:MAX_NAME]
                for row in zip(*values.values(), strict=True)
            ],
            dtype=object,
        )


@dataclass(frozen=True)
class Definitions:
    rules: tuple[SegmentRule, ...]
    exclude: Condition | None = None
    excluded_segment: str = "excluded"
    source: str = "<definitions>"

    def condition_fields(self) -> set[str]:
        """The profile fields that decide membership (conditions, the exclusion)."""
        found = set(self.exclude.fields()) if self.exclude else set()
        for rule in self.rules:
            found |= rule.when.fields()
        return found

    def fields(self) -> set[str]:
        """Every profile field the definitions read (conditions and name placeholders)."""
        return self.condition_fields().union(*(rule.placeholders for rule in self.rules))


# --- evaluation ----------------------------------------------------------------------------


def match(profile: Mapping[str, Any], definitions: Definitions) -> list[SegmentRule] | None:
    """The rules one lead matches, precedence applied; None when the lead is excluded."""
    if definitions.exclude is not None and definitions.exclude.test(profile):
        return None
    taken: set[str] = set()
    matched = []
    for rule in definitions.rules:
        if rule.group in taken or not rule.when.test(profile):
            continue
        matched.append(rule)
        if rule.group:
            taken.add(rule.group)
    return matched


def evaluate(profile: Mapping[str, Any], definitions: Definitions) -> list[str]:
    """The rule segments of one lead, in definition order (the live path: no pandas)."""
    matched = match(profile, definitions)
    if matched is None:
        return [definitions.excluded_segment]
    return [rule.render(profile) for rule in matched]


def evaluate_frame(frame: pd.DataFrame, definitions: Definitions) -> pd.Series:
    """`evaluate` for every row of a profile frame at once: a Series of lists, same index."""
    n = len(frame)
    excluded = (
        definitions.exclude.mask(frame)
        if definitions.exclude is not None
        else np.zeros(n, dtype=bool)
    )
    taken: dict[str, np.ndarray] = {}
    result: list[list[str]] = [[] for _ in range(n)]
    for rule in definitions.rules:
        hit = rule.when.mask(frame) & ~excluded
        if rule.group:
            group_taken = taken.setdefault(rule.group, np.zeros(n, dtype=bool))
            hit &= ~group_taken
            group_taken |= hit
        rows = np.flatnonzero(hit)
        if not len(rows):
            continue
        for row, name in zip(rows, rule.render_frame(frame.iloc[rows]), strict=True):
            result[row].append(name)
    for row in np.flatnonzero(excluded):
        result[row] = [definitions.excluded_segment]
    return pd.Series(result, index=frame.index, dtype=object)


def segment_counts(assigned: pd.Series) -> dict[str, int]:
    """Members per segment, largest first, from `evaluate_frame` output."""
    counts = assigned.explode().dropna().value_counts()
    return {str(name): int(n) for name, n in counts.items()}


# --- loading -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def default_definitions() -> Definitions:
    """The demo company's definitions (`tools/segments/segments.yaml`), parsed once."""
    return load_definitions(DEFAULT_PATH)


def load_definitions(path: str | Path) -> Definitions:
    """Read and validate a definitions YAML file; errors name the file, segment and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read segment definitions ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DefinitionError(f"{path}: not valid YAML{at}: {problem}") from None
    return parse_definitions(data, source=str(path))


def parse_definitions(data: Any, *, source: str = "<definitions>") -> Definitions:
    """Validate already-loaded YAML data (a mapping with `segments`, optional `exclude`)."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"{source}: expected a mapping with a 'segments' list at the top")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise DefinitionError(
            f"{source}: unknown top-level key {unknown[0]!r}; "
            f"expected {', '.join(sorted(TOP_KEYS))}"
        )
    if data.get("version", 1) != 1:
        raise DefinitionError(f"{source}: version: only version 1 is supported")
    raw_segments = data.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        raise DefinitionError(f"{source}: segments: expected a non-empty list of segments")
    rules = tuple(_parse_rule(raw, i, source) for i, raw in enumerate(raw_segments))
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise DefinitionError(f"{source}: segment {rule.name!r}: name: defined twice")
        seen.add(rule.name)
    exclude, marker = _parse_exclude(data.get("exclude"), source)
    if marker in seen:
        raise DefinitionError(f"{source}: exclude.segment: {marker!r} is also a segment name")
    return Definitions(rules=rules, exclude=exclude, excluded_segment=marker, source=source)


def _parse_exclude(raw: Any, source: str) -> tuple[Condition | None, str]:
    if raw is None:
        return None, "excluded"
    where = f"{source}: exclude"
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}: expected a mapping with 'segment' and 'when'")
    unknown = sorted(set(raw) - {"segment", "when", "description"})
    if unknown:
        raise DefinitionError(f"{where}: unknown key {unknown[0]!r}")
    if "when" not in raw:
        raise DefinitionError(f"{where}: missing key 'when'")
    marker = raw.get("segment", "excluded")
    _check_name(marker, f"{where}.segment")
    return parse_condition(raw["when"], f"{where}.when"), marker


def _parse_rule(raw: Any, index: int, source: str) -> SegmentRule:
    label = f"{source}: segment #{index + 1}"
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{label}: expected a mapping with 'name' and 'when'")
    if "name" not in raw:
        raise DefinitionError(f"{label}: missing key 'name'")
    name = raw["name"]
    where = f"{source}: segment {name!r}"
    unknown = sorted(set(raw) - SEGMENT_KEYS)
    if unknown:
        raise DefinitionError(
            f"{where}: unknown key {unknown[0]!r}; expected {', '.join(sorted(SEGMENT_KEYS))}"
        )
    fields = _template_fields(name, f"{where}: name")
    _check_name(name.format(**dict.fromkeys(fields, "x")), f"{where}: name")
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise DefinitionError(f"{where}: group: expected a text group name, got {group!r}")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise DefinitionError(f"{where}: description: expected text")
    return SegmentRule(
        name=name,
        when=parse_condition(raw.get("when"), f"{where}: when"),
        group=group,
        description=description.strip(),
        placeholders=_parse_placeholders(raw.get("placeholders"), fields, where),
    )


def _template_fields(name: Any, where: str) -> list[str]:
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(f"{where}: expected a non-empty text name")
    try:
        parts = list(string.Formatter().parse(name))
    except ValueError as exc:
        raise DefinitionError(f"{where}: bad placeholder ({exc}); write {{field}}") from None
    fields = []
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field_name) or spec or conversion:
            raise DefinitionError(
                f"{where}: placeholder {{{field_name}}} must be a plain field name "
                "like {industry}"
            )
        fields.append(field_name)
    return fields


def _check_name(name: Any, where: str) -> None:
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME:
        raise DefinitionError(
            f"{where}: {name!r} is not a segment name (lower-case letters, digits, ':', '-', "
            f"'_', '.'; at most {MAX_NAME} characters)"
        )
    if name.startswith(CLUSTER_PREFIX):
        raise DefinitionError(
            f"{where}: names starting with {CLUSTER_PREFIX!r} are reserved for behavioural clusters"
        )


def _parse_placeholders(raw: Any, fields: list[str], where: str) -> dict[str, Placeholder]:
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}: placeholders: expected a mapping of field -> options")
    extra = sorted(set(raw) - set(fields))
    if extra:
        raise DefinitionError(f"{where}: placeholders.{extra[0]}: no {{{extra[0]}}} in the name")
    specs = {}
    for name in fields:
        options = raw.get(name) or {}
        key = f"{where}: placeholders.{name}"
        if not isinstance(options, Mapping):
            raise DefinitionError(f"{key}: expected a mapping with 'missing' and/or 'ignore'")
        unknown = sorted(set(options) - PLACEHOLDER_KEYS)
        if unknown:
            raise DefinitionError(f"{key}: unknown key {unknown[0]!r}; expected missing, ignore")
        missing = options.get("missing", "unknown")
        if not isinstance(missing, str) or not slug(missing) or slug(missing) != missing:
            raise DefinitionError(f"{key}.missing: expected a slug like 'unknown', got {missing!r}")
        ignore = options.get("ignore", [])
        if not isinstance(ignore, list) or not all(isinstance(v, str) for v in ignore):
            raise DefinitionError(f"{key}.ignore: expected a list of values")
        specs[name] = Placeholder(missing=missing, ignore=frozenset(slug(v) for v in ignore))
    return specs
