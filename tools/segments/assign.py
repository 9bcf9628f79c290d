"""Assign rule segments: one lead after each event, or the whole store in chunks.

Rule evaluation owns every segment except `cluster:*` (the batch cluster refresh owns those),
so both paths keep a lead's clusters, unless the lead is excluded from nurture.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlmodel import Session

from tools.profile import lead_themes, profile_chunks, profile_frame, profile_of
from tools.segments.membership import (
    Changes,
    merged_targets,
    open_memberships,
    replace_segments,
)
from tools.segments.rules import (
    CLUSTER_PREFIX,
    Definitions,
    default_definitions,
    evaluate_frame,
    match,
)

THEME_FIELD = "content_theme"


@dataclass(frozen=True)
class SegmentResult:
    """A lead's segments after evaluation, and what changed."""

    lead_id: int
    segments: list[str]  # every current membership (rule segments and kept clusters), sorted
    rule_segments: list[str]  # what the rules gave, in definition order (funnel first)
    entered: list[str] = field(default_factory=list)
    exited: list[str] = field(default_factory=list)
    excluded: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.exited)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "segments": self.segments,
            "rule_segments": self.rule_segments,
            "entered": self.entered,
            "exited": self.exited,
            "excluded": self.excluded,
        }


def is_cluster(segment: str) -> bool:
    return segment.startswith(CLUSTER_PREFIX)


def add_themes(
    session: Session, frame: pd.DataFrame, definitions: Definitions, *, now: datetime
) -> pd.DataFrame:
    """Give a profile frame its `content_theme` column when the definitions read it."""
    if THEME_FIELD in definitions.fields() and THEME_FIELD not in frame.columns:
        themes = lead_themes(session, lead_ids=[int(i) for i in frame.index], now=now)
        frame[THEME_FIELD] = pd.Series(themes, dtype=object).reindex(frame.index)
    return frame


def segment_lead(
    session: Session,
    *,
    lead_id: int,
    now: datetime | None = None,
    definitions: Definitions | None = None,
    loaded: Mapping[str, Any] | None = None,
) -> SegmentResult:
    """Re-evaluate one lead's rule segments and record the change (run on every event).

    `loaded`: the lead's profile as of `now` when the caller has it already (it is not
    changed). Raises KeyError when there is no such lead. Does not commit: the caller owns
    the transaction.
    """
    definitions = definitions or default_definitions()
    now = now or datetime.now(UTC)
    profile = dict(loaded) if loaded else profile_of(session, lead_id=lead_id, now=now)
    if THEME_FIELD in definitions.condition_fields():
        profile[THEME_FIELD] = lead_themes(session, lead_ids=[lead_id], now=now).get(lead_id)
    matched = match(profile, definitions)
    # Most leads never need their theme: look it up only when a matched name uses it.
    if THEME_FIELD not in profile and any(THEME_FIELD in r.placeholders for r in matched or ()):
        profile[THEME_FIELD] = lead_themes(session, lead_ids=[lead_id], now=now).get(lead_id)
    excluded = matched is None
    # One read of the open memberships; writes only when something changed (most events don't).
    current = open_memberships(session, lead_ids=[lead_id]).get(lead_id, {})
    if matched is None:  # out of nurture: only the marker, clusters dropped too
        names, kept = [definitions.excluded_segment], []
    else:
        names = [rule.render(profile) for rule in matched]
        kept = sorted(s for s in current if is_cluster(s))
    wanted = {*names, *kept}
    replace_segments(session, targets={lead_id: wanted}, current={lead_id: current})
    return SegmentResult(
        lead_id=lead_id,
        segments=sorted(wanted),
        rule_segments=names,
        entered=sorted(wanted - set(current)),
        exited=sorted(set(current) - wanted),
        excluded=excluded,
    )


def resegment_all(
    session: Session,
    *,
    now: datetime | None = None,
    definitions: Definitions | None = None,
    chunk_size: int = 5_000,
    lead_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Re-evaluate the rule segments of every lead (or of `lead_ids`), a chunk at a time.

    Returns `{"leads": N, "segments": {name: members}, "entered": N, "exited": N,
    "changed": N}` (members per rule segment, largest first). Does not commit.
    """
    definitions = definitions or default_definitions()
    now = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    totals = {"leads": 0, "entered": 0, "exited": 0, "changed": 0}
    frames = (
        profile_chunks(session, now=now, chunk_size=chunk_size)
        if lead_ids is None
        else (
            profile_frame(session, now=now, lead_ids=list(lead_ids[i : i + chunk_size]))
            for i in range(0, len(lead_ids), chunk_size)
        )
    )
    for frame in frames:
        assigned = evaluate_frame(add_themes(session, frame, definitions, now=now), definitions)
        changes = _write_rule_segments(session, assigned, definitions.excluded_segment)
        counts.update(name for names in assigned for name in names)
        totals["leads"] += len(frame)
        totals["entered"] += changes.entered
        totals["exited"] += changes.exited
        totals["changed"] += changes.leads_changed
    return {
        "leads": totals["leads"],
        "segments": dict(counts.most_common()),
        "entered": totals["entered"],
        "exited": totals["exited"],
        "changed": totals["changed"],
    }


def _write_rule_segments(session: Session, assigned: pd.Series, excluded_segment: str) -> Changes:
    computed: Mapping[int, Sequence[str]] = {
        int(lead_id): names for lead_id, names in assigned.items()
    }
    current = open_memberships(session, lead_ids=computed)
    targets = merged_targets(current, computed, keep=is_cluster)
    for lead_id, names in computed.items():
        if list(names) == [excluded_segment]:
            targets[lead_id] = {excluded_segment}
    return replace_segments(session, targets=targets, current=current)
