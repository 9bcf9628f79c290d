"""Lead profiles: one row per lead with its fields, attributes and behaviour aggregates.

Scoring, rules and segments all read this frame, so a lead looks the same to each of them. The
aggregates are computed in SQL (one GROUP BY over events) so a whole store profiles in chunks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Integer, String, Text, and_, case, cast, func, select, type_coerce
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


def _behaviour_select(
    now: datetime,
    lead_ids: Sequence[int] | None,
    *,
    id_range: tuple[int, int] | None = None,
    raw_times: bool = False,
) -> Any:
    """The aggregates query. `id_range` (first, last) selects a contiguous chunk of lead ids
    without an IN list of thousands of bound parameters; `raw_times` returns first/last event
    times as the driver gives them (SQLite: the stored text) instead of datetime objects."""
    d7, d30, h48 = now - timedelta(days=7), now - timedelta(days=30), now - timedelta(hours=48)
    last: Any = func.max(Event.occurred_at)
    first: Any = func.min(Event.occurred_at)
    if raw_times:
        last, first = type_coerce(last, String), type_coerce(first, String)
    columns = [
        col(Event.lead_id).label("id"),
        *(_count(types).label(name) for name, types in COUNTERS.items()),
        func.count().label("events_total"),
        _count(None, d7).label("events_7d"),
        _count(None, d30).label("events_30d"),
        _count(("pricing_page_view",), d7).label("pricing_page_views_7d"),
        _count(HIGH_INTENT, h48).label("high_intent_48h"),
        last.label("last_event_at"),
        first.label("first_event_at"),
    ]
    stmt = select(*columns).where(col(Event.occurred_at) <= now).group_by(col(Event.lead_id))
    if id_range is not None:
        stmt = stmt.where(col(Event.lead_id).between(*id_range))
    elif lead_ids is not None:
        stmt = stmt.where(col(Event.lead_id).in_(list(lead_ids)))
    return stmt


def _core_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Rows of a column query as plain tuples, through the session's connection without the
    ORM result machinery (its per-row cost dominates a whole-store read). Pending changes are
    flushed first, as `session.execute` would."""
    if session.autoflush:
        session.flush()
    return [tuple(row) for row in session.connection().execute(stmt)]


def _stamps(values: pd.Series) -> pd.Series:
    """Event times as UTC timestamps. SQLite hands the raw stored text (fixed ISO layout,
    parsed in C); drivers with a native type hand datetimes."""
    first = values.first_valid_index()
    text = first is not None and isinstance(values[first], str)
    return pd.to_datetime(values, utc=True, format="ISO8601" if text else "mixed")


def behaviour_frame(
    session: Session,
    *,
    now: datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Per-lead behaviour aggregates, indexed by lead id (leads without events are absent)."""
    # First/last event times come back as stored: no datetime object per row.
    stmt = _behaviour_select(now, lead_ids, id_range=id_range, raw_times=True)
    columns = [c.name for c in stmt.selected_columns]
    frame = pd.DataFrame(_core_rows(session, stmt), columns=columns).set_index("id")
    for moment, name in AGES:
        stamps = _stamps(frame.pop(moment))
        frame[name] = ((pd.Timestamp(now) - stamps).dt.total_seconds() / 86400).round(2)
    return frame


def _lead_frame(session: Session, stmt: Any) -> pd.DataFrame:
    # Attributes come back as JSON text and are parsed here: SQLAlchemy's per-row JSON
    # processing and Row objects cost more than the query on a whole-store rescore.
    frame = pd.DataFrame(_core_rows(session, stmt), columns=[*LEAD_COLUMNS, "__attributes__"])
    loads = json.loads
    attributes = pd.DataFrame(
        [(loads(a) if a is not None else None) or {} for a in frame.pop("__attributes__")],
        index=frame.index,
    )
    attributes = attributes[[c for c in attributes.columns if c not in frame.columns]]
    return pd.concat([frame, attributes], axis=1).set_index("id")


def _lead_select() -> Any:
    return select(
        *(getattr(Lead, c) for c in LEAD_COLUMNS), cast(col(Lead.attributes), Text)
    ).order_by(col(Lead.id))


def lead_frame(session: Session, *, lead_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Lead fields plus the free attributes of their source file, indexed by lead id."""
    stmt = _lead_select()
    if lead_ids is not None:
        stmt = stmt.where(col(Lead.id).in_(list(lead_ids)))
    return _lead_frame(session, stmt)


def _with_behaviour(leads: pd.DataFrame, behaviour: pd.DataFrame) -> pd.DataFrame:
    frame = leads.join(behaviour, how="left")
    counts = [c for c in BEHAVIOUR_COLUMNS if not c.startswith("days_")]
    frame[counts] = frame[counts].fillna(0).astype(int)
    return frame


def profile_frame(
    session: Session, *, now: datetime | None = None, lead_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Leads joined with their behaviour; leads without events get zero counts."""
    now = now or datetime.now(UTC)
    leads = lead_frame(session, lead_ids=lead_ids)
    behaviour = behaviour_frame(session, now=now, lead_ids=lead_ids)
    return _with_behaviour(leads, behaviour)


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
    """The whole store's profiles, `chunk_size` leads at a time (bounded memory).

    Keyset pages of leads (the same chunks as `lead_id_chunks`); each page's events are read
    by the id range it spans, so no chunk needs an IN list and any chunk size works.
    """
    last_id = 0
    while True:
        stmt = _lead_select().where(col(Lead.id) > last_id).limit(chunk_size)
        leads = _lead_frame(session, stmt)
        if leads.empty:
            return
        first, last_id = int(leads.index[0]), int(leads.index[-1])
        behaviour = behaviour_frame(session, now=now, id_range=(first, last_id))
        yield _with_behaviour(leads, behaviour)


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
