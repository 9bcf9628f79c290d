"""Segment membership in bulk: read open memberships and apply many leads' changes at once.

Same history semantics as `store.crud.set_segments` (a left segment gets `exited_at`, a new one
a fresh row), but a few statements per chunk instead of a few per lead, for whole-store runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from store.models import SegmentMembership, utcnow

CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_memberships(session: Session, *, lead_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Current segments of each lead: lead id -> {segment: membership row id}."""
    found: dict[int, dict[str, int]] = {}
    for batch in _chunks(sorted(set(lead_ids))):
        stmt = select(
            col(SegmentMembership.id), col(SegmentMembership.lead_id), SegmentMembership.segment
        ).where(
            col(SegmentMembership.lead_id).in_(batch), col(SegmentMembership.exited_at).is_(None)
        )
        for row_id, lead_id, segment in session.exec(stmt):
            if row_id is not None:
                found.setdefault(lead_id, {})[segment] = row_id
    return found


@dataclass
class Changes:
    entered: int = 0
    exited: int = 0
    leads_changed: int = 0


def replace_segments(
    session: Session,
    *,
    targets: Mapping[int, Iterable[str]],
    current: Mapping[int, Mapping[str, int]],
    now: datetime | None = None,
) -> Changes:
    """Make `targets[lead]` each lead's open membership, given its `current` one."""
    now = now or utcnow()
    exits: list[int] = []
    entries: list[dict[str, Any]] = []
    changes = Changes()
    for lead_id, wanted_iter in targets.items():
        wanted = set(wanted_iter)
        have = current.get(lead_id, {})
        gone = [row_id for name, row_id in have.items() if name not in wanted]
        new = sorted(wanted - set(have))
        exits.extend(gone)
        entries.extend({"lead_id": lead_id, "segment": s, "entered_at": now} for s in new)
        changes.exited += len(gone)
        changes.entered += len(new)
        changes.leads_changed += bool(gone or new)
    for batch in _chunks(exits):
        session.execute(
            update(SegmentMembership)
            .where(col(SegmentMembership.id).in_(batch))
            .values(exited_at=now)
        )
    for batch in _chunks(entries):
        session.execute(insert(SegmentMembership), batch)
    session.flush()
    return changes


def merged_targets(
    current: Mapping[int, Mapping[str, int]],
    computed: Mapping[int, Iterable[str]],
    *,
    keep: Callable[[str], bool],
) -> dict[int, set[str]]:
    """Each lead's new set: the computed part plus the current segments `keep` says to keep."""
    return {
        lead_id: {*names, *(s for s in current.get(lead_id, {}) if keep(s))}
        for lead_id, names in computed.items()
    }


def membership_history(session: Session, *, lead_id: int) -> list[dict[str, Any]]:
    """Every membership the lead ever had, oldest first (open ones have `exited_at` None)."""
    stmt = (
        select(SegmentMembership)
        .where(SegmentMembership.lead_id == lead_id)
        .order_by(col(SegmentMembership.entered_at), col(SegmentMembership.id))
    )
    return [
        {"segment": row.segment, "entered_at": row.entered_at, "exited_at": row.exited_at}
        for row in session.exec(stmt)
    ]
