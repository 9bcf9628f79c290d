"""Lead profiles: one row per lead with its fields, attributes and behaviour aggregates (and,
on demand, the course theme the lead engaged with most).

Scoring, rules and segments all read this frame, so a lead looks the same to each of them.
Batches read each lead's events (lead, type, time) in index order and count them with numpy; one
lead is profiled by a single query that joins the lead to its SQL aggregates. Both paths give
the same numbers (the tests compare them).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    select,
    type_coerce,
)
from sqlmodel import Session, col

from store.models import Event, Lead

# Event times as SQLAlchemy types them (binds and results convert through this type).
_OCCURRED_AT: Any = col(Event.occurred_at)

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
COUNT_COLUMNS = [c for c in BEHAVIOUR_COLUMNS if not c.startswith("days_")]

AGES = (("last_event_at", "days_since_last_event"), ("first_event_at", "days_since_first_event"))


def _windows(now: datetime) -> dict[str, datetime]:
    """The moments the recency counters start from."""
    return {
        "now": now,
        "d7": now - timedelta(days=7),
        "d30": now - timedelta(days=30),
        "h48": now - timedelta(hours=48),
    }


# --- one lead: a single query --------------------------------------------------------------


def _count(types: Sequence[str] | None, since: Any = None) -> Any:
    """SUM(CASE ...) counting events of `types` (None: any type) since a moment."""
    conditions = []
    if types is not None:
        conditions.append(col(Event.type).in_(types))
    if since is not None:
        conditions.append(col(Event.occurred_at) >= since)
    return func.sum(case((and_(*conditions), 1), else_=0)).cast(Integer)


@lru_cache(maxsize=1)
def _profile_select() -> Any:
    """One lead joined to its event aggregates, built once: parameters `lead_id`, `now`, `d7`,
    `d30` and `h48` (the statement's SQL is compiled once and cached by SQLAlchemy)."""
    when = {name: bindparam(name, type_=_OCCURRED_AT.type) for name in ("now", "d7", "d30", "h48")}
    lead_id = bindparam("lead_id", type_=Integer)
    events = (
        select(
            col(Event.lead_id).label("lead_id"),
            *(_count(types).label(name) for name, types in COUNTERS.items()),
            func.count().label("events_total"),
            _count(None, when["d7"]).label("events_7d"),
            _count(None, when["d30"]).label("events_30d"),
            _count(("pricing_page_view",), when["d7"]).label("pricing_page_views_7d"),
            _count(HIGH_INTENT, when["h48"]).label("high_intent_48h"),
            func.max(Event.occurred_at).label("last_event_at"),
            func.min(Event.occurred_at).label("first_event_at"),
        )
        .where(col(Event.lead_id) == lead_id, col(Event.occurred_at) <= when["now"])
        .group_by(col(Event.lead_id))
        .subquery("behaviour")
    )
    aggregates = [events.c[name] for name in (*COUNT_COLUMNS, *(m for m, _ in AGES))]
    return (
        select(*(getattr(Lead, c) for c in LEAD_COLUMNS), col(Lead.attributes), *aggregates)
        .select_from(Lead)
        .outerjoin(events, events.c.lead_id == col(Lead.id))
        .where(col(Lead.id) == lead_id)
    )


def profile_of(session: Session, *, lead_id: int, now: datetime | None = None) -> dict[str, Any]:
    """One lead's profile as a plain dict, without pandas: the live path after each event."""
    now = now or datetime.now(UTC)
    row = session.execute(_profile_select(), {"lead_id": lead_id, **_windows(now)}).first()
    if row is None:
        raise KeyError(f"no lead with id {lead_id}")
    values = row._mapping
    attributes = values["attributes"] or {}
    profile: dict[str, Any] = {
        **{k: v for k, v in attributes.items() if k not in LEAD_COLUMNS},
        **{c: values[c] for c in LEAD_COLUMNS},
    }
    for name in COUNT_COLUMNS:
        profile[name] = values[name] or 0
    for moment, name in AGES:
        stamp = values[moment]
        if stamp is None:
            profile[name] = None
            continue
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        # numpy's rounding, as the batch path's: Python's round() differs at some halves.
        profile[name] = float(np.round((now - stamp).total_seconds() / 86400, 2))
    return profile


# --- many leads: plain rows, counted with numpy ----------------------------------------------


def _raw_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """All rows of a column query as the driver returns them (SQLite: stored text for times,
    0/1 for booleans), without SQLAlchemy's per-row result processing, whose cost dominates a
    whole-store read. Pending changes are flushed first, as `session.execute` would."""
    if session.autoflush:
        session.flush()
    result = session.connection().execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    # map(itemgetter) runs in C; zip(*rows) over 100k rows is ~20x slower.
    return [list(map(itemgetter(i), rows)) for i in range(width)]


def _stored(moment: datetime, session: Session) -> Any:
    """A moment as the database stores event times (SQLite: the text), so driver values
    compare with it exactly as SQL compares them."""
    dialect = session.get_bind().dialect
    process = _OCCURRED_AT.type.dialect_impl(dialect).bind_processor(dialect)
    return process(moment) if process is not None else moment


def _event_select(
    now: datetime, lead_ids: Sequence[int] | None, id_range: tuple[int, int] | None
) -> Any:
    # Ordered by lead then time: the covering index (lead_id, occurred_at, type) returns rows in
    # this order without a sort, and each lead's first and last rows are its first/last events.
    occurred = col(Event.occurred_at)
    stmt = (
        select(col(Event.lead_id), col(Event.type), type_coerce(occurred, String))
        .where(occurred <= now)
        .order_by(col(Event.lead_id), occurred)
    )
    if id_range is not None:
        return stmt.where(col(Event.lead_id).between(*id_range))
    if lead_ids is not None:
        return stmt.where(col(Event.lead_id).in_(list(lead_ids)))
    return stmt


def count_events(rows: list[tuple[Any, ...]], windows: dict[str, Any]) -> pd.DataFrame:
    """Behaviour aggregates from (lead id, type, occurred at) rows ordered by lead then time.

    `windows` holds the moments `d7`, `d30`, `h48` in the form the rows carry their times.
    Returns the counters, `last_event_at` and `first_event_at` (as given), indexed by lead id.
    """
    columns = [*COUNT_COLUMNS, "last_event_at", "first_event_at"]
    if not rows:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="id", dtype="int64"))
    lead_ids, types, times = _columns(rows, 3)
    ids = np.asarray(lead_ids, dtype=np.int64)
    stamps = np.asarray(times)  # fixed-width text on SQLite, datetimes elsewhere
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    leads = len(starts)
    group = np.repeat(np.arange(leads), ends - starts)
    codes, kinds = pd.factorize(np.asarray(types, dtype=object))

    def tally(mask: np.ndarray) -> np.ndarray:
        return np.bincount(group[mask], minlength=leads)

    def of_types(names: Sequence[str]) -> np.ndarray:
        wanted = [i for i, kind in enumerate(kinds) if kind in names]
        return np.isin(codes, wanted)

    recent_7d, recent_48h = stamps >= windows["d7"], stamps >= windows["h48"]
    counts = {name: tally(of_types(names)) for name, names in COUNTERS.items()}
    counts["events_total"] = ends - starts
    counts["events_7d"] = tally(recent_7d)
    counts["events_30d"] = tally(stamps >= windows["d30"])
    counts["pricing_page_views_7d"] = tally(recent_7d & of_types(("pricing_page_view",)))
    counts["high_intent_48h"] = tally(recent_48h & of_types(HIGH_INTENT))
    frame = pd.DataFrame(
        {**counts, "last_event_at": stamps[ends - 1], "first_event_at": stamps[starts]},
        index=pd.Index(ids[starts], name="id"),
    )
    return frame[columns]


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
    rows = _raw_rows(session, _event_select(now, lead_ids, id_range))
    windows = {name: _stored(moment, session) for name, moment in _windows(now).items()}
    frame = count_events(rows, windows)
    for moment, name in AGES:
        stamps = _stamps(frame.pop(moment))
        frame[name] = ((pd.Timestamp(now) - stamps).dt.total_seconds() / 86400).round(2)
    return frame


def _parse_attributes(texts: Sequence[str | None]) -> list[dict[str, Any]]:
    # orjson parses a whole store's attributes ~2.5x faster than json; what it refuses (NaN,
    # integers beyond 64 bits) json still reads.
    loads = orjson.loads
    parsed = []
    for text in texts:
        try:
            value = loads(text) if text is not None else None
        except orjson.JSONDecodeError:
            value = json.loads(text) if text is not None else None
        parsed.append(value or {})
    return parsed


@lru_cache(maxsize=1)
def _lead_processors() -> dict[str, Any]:
    """Result conversions the raw driver rows skip (SQLite booleans come back as 0/1)."""
    return {
        c: (lambda v: v if v is None else bool(v))
        for c in LEAD_COLUMNS
        if isinstance(getattr(Lead, c).type, Boolean)
    }


def _lead_frame(session: Session, stmt: Any) -> pd.DataFrame:
    # Attributes come back as JSON text and are parsed here: SQLAlchemy's per-row JSON
    # processing and Row objects cost more than the query on a whole-store rescore.
    rows = _raw_rows(session, stmt)
    names = [c.name for c in stmt.selected_columns]
    columns = dict(zip(names, _columns(rows, len(names)), strict=True))
    fields = names[:-1]
    data = {c: columns[c] for c in fields}
    for name, convert in _lead_processors().items():
        if name in data:
            data[name] = [convert(v) for v in data[name]]
    frame = pd.DataFrame(data, columns=fields)
    attributes = pd.DataFrame(_parse_attributes(columns[_ATTRIBUTES]))
    attributes = attributes[[c for c in attributes.columns if c not in LEAD_COLUMNS]]
    return pd.concat([frame, attributes], axis=1).set_index("id")


_ATTRIBUTES = "__attributes__"


def _lead_select(fields: Collection[str] | None = None) -> Any:
    """Lead fields (all, or `fields` and the id) and the attributes as JSON text, by id."""
    chosen = [c for c in LEAD_COLUMNS if fields is None or c == "id" or c in fields]
    return select(
        *(getattr(Lead, c) for c in chosen), cast(col(Lead.attributes), Text).label(_ATTRIBUTES)
    ).order_by(col(Lead.id))


def lead_frame(session: Session, *, lead_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Lead fields plus the free attributes of their source file, indexed by lead id."""
    stmt = _lead_select()
    if lead_ids is not None:
        stmt = stmt.where(col(Lead.id).in_(list(lead_ids)))
    return _lead_frame(session, stmt)


def _with_behaviour(leads: pd.DataFrame, behaviour: pd.DataFrame) -> pd.DataFrame:
    frame = leads.join(behaviour, how="left")
    frame[COUNT_COLUMNS] = frame[COUNT_COLUMNS].fillna(0).astype(int)
    return frame


def profile_frame(
    session: Session, *, now: datetime | None = None, lead_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Leads joined with their behaviour; leads without events get zero counts."""
    now = now or datetime.now(UTC)
    if lead_ids is not None and len(lead_ids) > IN_LIST_MAX:
        # SQLite takes at most 32,766 bound parameters: long id lists go in parts.
        ids = list(lead_ids)
        parts = [
            profile_frame(session, now=now, lead_ids=ids[start : start + IN_LIST_MAX])
            for start in range(0, len(ids), IN_LIST_MAX)
        ]
        return pd.concat(parts)
    leads = lead_frame(session, lead_ids=lead_ids)
    behaviour = behaviour_frame(session, now=now, lead_ids=lead_ids)
    return _with_behaviour(leads, behaviour)


IN_LIST_MAX = 20_000


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


def lead_id_ranges(session: Session, *, chunk_size: int) -> list[tuple[int, int, int]]:
    """Every lead id in ascending order as (first id, last id, leads) ranges of `chunk_size`
    leads: chunks planned up front, so several processes can share them out."""
    if session.autoflush:
        session.flush()
    result = session.connection().execute(select(col(Lead.id)).order_by(col(Lead.id)))
    rows: Any = result.cursor  # the driver's cursor yields plain tuples
    try:  # straight into an array: a million ids as Python objects would cost ~100 MB
        ids = np.fromiter(map(itemgetter(0), rows), dtype=np.int64)
    finally:
        result.close()
    return [
        (
            int(ids[start]),
            int(ids[min(start + chunk_size, len(ids)) - 1]),
            min(chunk_size, len(ids) - start),
        )
        for start in range(0, len(ids), chunk_size)
    ]


def profile_chunks(
    session: Session,
    *,
    now: datetime,
    chunk_size: int = 20_000,
    id_range: tuple[int, int] | None = None,
    fields: Collection[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The whole store's profiles (or those with ids in `id_range`, both ends included),
    `chunk_size` leads at a time (bounded memory). `fields` limits the lead fields read (the
    attributes and behaviour always come): a scorer needs five of the fourteen.

    Keyset pages of leads (the same chunks as `lead_id_chunks`); each page's events are read
    by the id range it spans, so no chunk needs an IN list and any chunk size works.
    """
    last_id, stop = (0, None) if id_range is None else (id_range[0] - 1, id_range[1])
    while True:
        stmt = _lead_select(fields).where(col(Lead.id) > last_id)
        if stop is not None:
            stmt = stmt.where(col(Lead.id) <= stop)
        leads = _lead_frame(session, stmt.limit(chunk_size))
        if leads.empty:
            return
        first, last_id = int(leads.index[0]), int(leads.index[-1])
        behaviour = behaviour_frame(session, now=now, id_range=(first, last_id))
        yield _with_behaviour(leads, behaviour)


# --- content theme ---------------------------------------------------------------------------
# Each lead's content theme: the course it engaged with most, decided the same way everywhere.
# Course pages (`/courses/<theme>` and pages under it) and events naming a `course` count;
# other site pages are no theme. Ties go to the most recent, then the alphabetically first
# theme, so the single-lead and batch paths agree on every database (a tie must not flip a
# segment). Read on demand: few segments need it, and it reads the events' JSON properties.

THEME_CHUNK = 500
COURSE_PREFIX = "/courses/"


def theme_of(raw: str | None) -> str | None:
    """'/courses/data-science/syllabus' -> 'data-science'; a course key as is; '/faq' -> None."""
    if not raw:
        return None
    if raw.startswith(COURSE_PREFIX):
        return raw.removeprefix(COURSE_PREFIX).split("/", 1)[0].split("?", 1)[0] or None
    return None if raw.startswith("/") or "/" in raw else raw


def lead_themes(
    session: Session, *, lead_ids: Iterable[int], now: datetime | None = None
) -> dict[int, str]:
    """{lead id: theme} for the leads that engaged with any course (events up to `now`)."""
    source = func.coalesce(
        Event.properties["course"].as_string(), Event.properties["path"].as_string()
    )
    ids = sorted(set(lead_ids))
    tallies: dict[int, dict[str, list[Any]]] = {}
    for start in range(0, len(ids), THEME_CHUNK):
        stmt = (
            select(
                col(Event.lead_id),
                source.label("raw"),
                func.count().label("n"),
                func.max(Event.occurred_at).label("last"),
            )
            .where(col(Event.lead_id).in_(ids[start : start + THEME_CHUNK]), source.is_not(None))
            .group_by(col(Event.lead_id), source)
        )
        if now is not None:
            stmt = stmt.where(col(Event.occurred_at) <= now)
        for lead_id, raw, n, last in session.execute(stmt):
            theme = theme_of(raw)
            if theme is None:
                continue
            tally = tallies.setdefault(lead_id, {}).setdefault(theme, [0, None])
            tally[0] += n
            tally[1] = last if tally[1] is None else max(tally[1], last)
    return {
        lead_id: max(sorted(found.items()), key=lambda item: (item[1][0], str(item[1][1])))[0]
        for lead_id, found in tallies.items()
    }
