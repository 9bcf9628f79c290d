"""Each lead's content theme: the course it engaged with most, decided the same way everywhere.

Counts course pages (`/courses/<theme>` and pages under it) and events naming a `course`; other
site pages are no theme. Ties go to the most recent, then the alphabetically first theme, so
the single-lead and batch paths agree on every database (a tie must not flip a segment).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from store.models import Event

CHUNK = 500
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
    for start in range(0, len(ids), CHUNK):
        stmt = (
            select(
                col(Event.lead_id),
                source.label("raw"),
                func.count().label("n"),
                func.max(Event.occurred_at).label("last"),
            )
            .where(col(Event.lead_id).in_(ids[start : start + CHUNK]), source.is_not(None))
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
