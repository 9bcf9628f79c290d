"""Everything the agent knows about one lead, read from the store as a `LeadBrief`.

The nurture graph, the chat tools, hand-offs and triggers all read a lead through this one
function, so a lead looks the same to each of them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from store import crud
from store.models import Event, Lead, Score, Touch, TouchStatus, utcnow
from tools.drafting.personal import company_website
from tools.profile import HIGH_INTENT, lead_themes
from tools.schemas import LeadBrief, Stage

# How a score factor that pulled the score down reads beside the ones that raised it.
LOWERS = " (lowers the score)"

EVENT_LABELS = {
    "demo_request": "asked for a demo",
    "pricing_page_view": "viewed pricing",
    "trial_signup": "signed up for a trial",
    "email_reply": "replied to an email",
    "content_download": "downloaded content",
    "webinar_attended": "attended a webinar",
    "video_watched": "watched a video",
    "form_submit": "submitted a form",
    "product_milestone": "reached a product milestone",
    "email_click": "clicked an email",
    "email_open": "opened an email",
    "page_view": "visited the site",
}
NOTED_EVENTS = 8
# The window of "what the lead did lately" (the brief, hand-offs, approval cards).
RECENT_DAYS = 30
# Free-text fields a lead fills in (forms, replies): carried as data, never as instructions.
NOTE_KEYS = ("notes", "message", "comment", "comments", "question")
ENGAGED = ("email_open", "email_click", "email_reply")


def stage_of(lead: Lead, segments: list[str]) -> Stage:
    """Where the lead is in the funnel, from its lifecycle and segments."""
    late = {s.removeprefix("late:") for s in segments if s.startswith("late:")}
    if lead.lifecycle_stage in ("mql", "sql") or late & {"demo", "trial", "pricing"}:
        return "decision"
    if late:
        return "vendor"
    if any(s.startswith("mofu:") for s in segments):
        return "solution"
    return "problem"


def lead_notes(lead: Lead, events: list[Event]) -> str | None:
    """The lead's own words: form notes and the like, newest first."""
    texts = [str(lead.attributes[k]) for k in NOTE_KEYS if (lead.attributes or {}).get(k)]
    for event in events:
        texts += [str(event.properties[k]) for k in NOTE_KEYS if (event.properties or {}).get(k)]
    return "\n".join(texts)[:2000] or None


def factor_words(factors: list[Any]) -> list[str]:
    """Factors as a rep reads them on a card: what raised the score first (strongest first),
    then what held it back, marked as such, so "last active 40 days ago" is never read as a
    reason the lead is hot. Plain strings pass through."""
    raised = [f for f in factors if not isinstance(f, dict) or f.get("direction") != "-"]
    lowered = [f for f in factors if isinstance(f, dict) and f.get("direction") == "-"]
    return [_words(f) for f in raised] + [_words(f) + LOWERS for f in lowered]


def _words(factor: Any) -> str:
    return str(factor.get("factor")) if isinstance(factor, dict) else str(factor)


def lead_brief(
    session: Session,
    *,
    lead_id: int,
    trigger: str | None = None,
    now: datetime | None = None,
    scored: tuple[Score, list[str]] | None = None,
) -> LeadBrief:
    """The lead record, its latest score and segments, and what it did lately.

    `scored`: the score and segments the caller has just stored for the lead, when it has.
    """
    now = _aware(now or datetime.now(UTC))
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise KeyError(f"no lead with id {lead_id}")
    counts, latest = _recent_events(session, lead_id=lead_id, now=now, days=RECENT_DAYS)
    score: Score | None
    if scored is not None:
        score, segments = scored
    else:
        score = crud.latest_score(session, lead_id=lead_id)
        segments = crud.current_segments(session, lead_id=lead_id)
    events = list(
        session.exec(
            select(Event)
            .where(Event.lead_id == lead_id, col(Event.occurred_at) <= now)
            .order_by(col(Event.occurred_at).desc())
            .limit(NOTED_EVENTS)
        )
    )
    theme = lead_themes(session, lead_ids=[lead_id], now=now).get(lead_id)
    sent = _sent_touches(session, lead_id)
    last_touch = sent[0] if sent else None
    return LeadBrief(
        lead_id=lead_id,
        first_name=lead.first_name,
        last_name=lead.last_name,
        company=lead.company,
        website=(lead.attributes or {}).get("website") or company_website(lead.email),
        role=lead.role,
        industry=lead.industry,
        company_size=lead.company_size,
        country=lead.country,
        timezone=lead.timezone,
        lifecycle_stage=str(lead.lifecycle_stage),
        score=score.score if score else None,
        decile=score.decile if score else None,
        fit=score.fit if score else None,
        behaviour=score.behaviour if score else None,
        factors=factor_words(score.factors) if score else [],
        segments=segments,
        themes=[theme] if theme else [],
        stage=stage_of(lead, segments),
        trigger=trigger,
        recent_activity=_activity_lines(counts, latest, now),
        high_intent_48h=any(
            latest[kind] >= now - timedelta(hours=48) for kind in HIGH_INTENT if kind in latest
        ),
        touches_sent=len(sent),
        days_since_last_touch=_days(now, last_touch.sent_at) if last_touch else None,
        unopened_in_a_row=_unopened_in_a_row(session, lead_id, sent),
        may_email=crud.may_email(session, lead=lead),
        notes=lead_notes(lead, events),
    )


def _sent_touches(session: Session, lead_id: int) -> list[Touch]:
    stmt = (
        select(Touch)
        .where(Touch.lead_id == lead_id, Touch.status == TouchStatus.sent)
        .order_by(col(Touch.sent_at).desc())
    )
    return list(session.exec(stmt))


def _unopened_in_a_row(session: Session, lead_id: int, sent: list[Touch]) -> int:
    """Emails sent since the lead last opened, clicked or replied to one."""
    last_engaged = session.exec(
        select(Event.occurred_at)
        .where(Event.lead_id == lead_id, col(Event.type).in_(ENGAGED))
        .order_by(col(Event.occurred_at).desc())
        .limit(1)
    ).first()
    emails = [t for t in sent if t.channel == "email" and t.sent_at is not None]
    if last_engaged is None:
        return len(emails)
    engaged_at = _aware(last_engaged)
    return sum(1 for t in emails if t.sent_at and _aware(t.sent_at) > engaged_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _days(now: datetime, moment: datetime | None) -> int | None:
    return None if moment is None else max(0, (now - _aware(moment)).days)


def recent_activity(
    session: Session, *, lead_id: int, now: datetime | None = None, days: int = RECENT_DAYS
) -> list[str]:
    """What the lead did lately, one line per kind of event, most recent kind first."""
    now = _aware(now or utcnow())
    counts, latest = _recent_events(session, lead_id=lead_id, now=now, days=days)
    return _activity_lines(counts, latest, now)


def _recent_events(
    session: Session, *, lead_id: int, now: datetime, days: int
) -> tuple[Counter[str], dict[str, datetime]]:
    """How often the lead did each kind of thing in the last `days` before `now` (aware), and
    when it last did."""
    stmt = (
        select(Event.type, Event.occurred_at)
        .where(
            Event.lead_id == lead_id,
            col(Event.occurred_at) > now - timedelta(days=days),
            col(Event.occurred_at) <= now,
        )
        .order_by(col(Event.occurred_at).desc())
    )
    counts: Counter[str] = Counter()
    latest: dict[str, datetime] = {}
    for kind, at in session.exec(stmt):
        counts[kind] += 1
        latest.setdefault(kind, _aware(at))
    return counts, latest


def _activity_lines(counts: Counter[str], latest: dict[str, datetime], now: datetime) -> list[str]:
    lines = []
    for kind in sorted(latest, key=lambda k: latest[k], reverse=True):
        if kind in ("unsubscribe", "bounce"):
            continue
        times = f" {counts[kind]}×" if counts[kind] > 1 else ""
        lines.append(f"{label(kind)}{times} (last {ago(latest[kind], now)})")
    return lines


def label(kind: str) -> str:
    return EVENT_LABELS.get(kind, re.sub(r"_", " ", kind))


def ago(moment: datetime | str, now: datetime) -> str:
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    seconds = max(0.0, (now - _aware(at)).total_seconds())
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"
