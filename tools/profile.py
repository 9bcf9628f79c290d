"""Lead profiles: one row per lead with its fields, attributes and behaviour aggregates.

Scoring, rules and segments all read this frame, so a lead looks the same to each of them. The
aggregates are computed in SQL (one GROUP BY over events) so a whole store profiles in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Integer, and_, case, func, select
from sqlmodel import Session, col

from store.models import Event, Lead

LEAD_COLUMNS = [
    "id", "email", "first_name", "last_name", "company", "industry", "company_size", "role",
    "country", "timezone", "source", "consent", "do_not_email", "owner", "lifecycle_stage",
]  # fmt: skip

# Behaviour counters: name -> event types counted (all time).
COUNTERS: dict[str, tuple[str, ...]] = {
    "page_views": ("page_view",),
    "pricing_page_views": ("pricing_page_view",),
    "content_downloads": ("content_download",),
    "form_submits": ("form_submit",),
    "webinars_attended": ("webinar_attended",),
    "videos_watched": ("video_watched",),
    "email_opens": ("email_open",),
    "email_clicks": ("email_click",),
    "email_replies": ("email_reply",),
    "demo_requests": ("demo_request",),
    "trial_signups": ("trial_signup",),
    "product_milestones": ("product_milestone",),
    "unsubscribes": ("unsubscribe",),
    "bounces": ("bounce",),
}
HIGH_INTENT = ("demo_request", "pricing_page_view", "trial_signup", "email_reply")
BEHAVIOUR_COLUMNS = [
    *COUNTERS, "events_total", "events_7d", "events_30d", "pricing_page_views_7d",
    "high_intent_48h", "days_since_last_event", "days_since_first_event",
]  # fmt: skip


AGES = (("last_event_at", "days_since_last_event"), ("first_event_at", "days_since_first_event"))


def _count(types: Sequence[str] | None, since: Any = None) -> Any:
    """SUM(CASE ...) counting events of `types` (None: any type) since a moment."""
    conditions = []
    if types is not None:
        conditions.append(col(Event.type).in_(types))
    if since is not None:
        conditions.append(col(Event.occurred_at) >= since)
    return func.sum(case((and_(*conditions), 1), else_=0)).cast(Integer)


def _behaviour_select(now: datetime, lead_ids: Sequence[int] | None) -> Any:
    d7, d30, h48 = now - timedelta(days=7), now - timedelta(days=30), now - timedelta(hours=48)
    columns = [
        col(Event.lead_id).label("id"),
        *(_count(types).label(name) for name, types in COUNTERS.items()),
        func.count().label("events_total"),
        _count(None, d7).label("events_7d"),
        _count(None, d30).label("events_30d"),
        _count(("pricing_page_view",), d7).label("pricing_page_views_7d"),
        _count(HIGH_INTENT, h48).label("high_intent_48h"),
        func.max(Event.occurred_at).label("last_event_at"),
        func.min(Event.occurred_at).label("first_event_at"),
    ]
    stmt = select(*columns).where(col(Event.occurred_at) <= now).group_by(col(Event.lead_id))
    if lead_ids is not None:
        stmt = stmt.where(col(Event.lead_id).in_(list(lead_ids)))
    return stmt


def behaviour_frame(
    session: Session, *, now: datetime, lead_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Per-lead behaviour aggregates, indexed by lead id (leads without events are absent)."""
    result = session.execute(_behaviour_select(now, lead_ids))
    frame = pd.DataFrame(result.all(), columns=list(result.keys())).set_index("id")
    for moment, name in AGES:
        stamps = pd.to_datetime(frame.pop(moment), utc=True, format="mixed")
        frame[name] = ((pd.Timestamp(now) - stamps).dt.total_seconds() / 86400).round(2)
    return frame


def lead_frame(session: Session, *, lead_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Lead fields plus the free attributes of their source file, indexed by lead id."""
    stmt = select(*(getattr(Lead, c) for c in LEAD_COLUMNS), col(Lead.attributes))
    if lead_ids is not None:
        stmt = stmt.where(col(Lead.id).in_(list(lead_ids)))
    rows = session.execute(stmt.order_by(col(Lead.id))).all()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=LEAD_COLUMNS)
    attributes = pd.DataFrame([r[-1] or {} for r in rows], index=frame.index)
    attributes = attributes[[c for c in attributes.columns if c not in frame.columns]]
    return pd.concat([frame, attributes], axis=1).set_index("id")


def profile_frame(
    session: Session, *, now: datetime | None = None, lead_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Leads joined with their behaviour; leads without events get zero counts."""
    now = now or datetime.now(UTC)
    leads = lead_frame(session, lead_ids=lead_ids)
    behaviour = behaviour_frame(session, now=now, lead_ids=lead_ids)
    frame = leads.join(behaviour, how="left")
    counts = [c for c in BEHAVIOUR_COLUMNS if not c.startswith("days_")]
    frame[counts] = frame[counts].fillna(0).astype(int)
    return frame


def lead_id_chunks(session: Session, *, chunk_size: int) -> Iterator[list[int]]:
    """Every lead id in ascending order, `chunk_size` at a time (keyset pagination).

    Keep chunk_size under SQLite's 32,766 bound parameters: chunks become IN (...) lists.
    """
    last_id = 0
    while True:
        stmt = select(col(Lead.id)).where(col(Lead.id) > last_id).order_by(col(Lead.id))
        ids = [i for i in session.scalars(stmt.limit(chunk_size)) if i is not None]
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def profile_chunks(
    session: Session, *, now: datetime, chunk_size: int = 20_000
) -> Iterator[pd.DataFrame]:
    """The whole store's profiles, `chunk_size` leads at a time (bounded memory)."""
    for ids in lead_id_chunks(session, chunk_size=chunk_size):
        yield profile_frame(session, now=now, lead_ids=ids)


def profile_of(session: Session, *, lead_id: int, now: datetime | None = None) -> dict[str, Any]:
    """One lead's profile as a plain dict, without pandas: the live path after each event."""
    now = now or datetime.now(UTC)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise KeyError(f"no lead with id {lead_id}")
    profile: dict[str, Any] = {
        **{k: v for k, v in (lead.attributes or {}).items() if k not in LEAD_COLUMNS},
        **{c: getattr(lead, c) for c in LEAD_COLUMNS},
    }
    row = session.execute(_behaviour_select(now, [lead_id])).mappings().first()
    aggregates = dict(row) if row else {}
    for name in BEHAVIOUR_COLUMNS:
        profile[name] = aggregates.get(name) or 0
    for moment, name in AGES:
        stamp = aggregates.get(moment)
        if stamp is None:
            profile[name] = None
            continue
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        profile[name] = round((now - stamp).total_seconds() / 86400, 2)
    return profile
