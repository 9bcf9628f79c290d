"""One synthetic lead's behaviour: a time window and the events inside it.

Volumes come from the lead's drawn attributes (visits, page views per visit, time on site);
intent events (pricing, demo, trial, webinar, downloads) are likelier for leads of the converted
class; the closing event follows the drawn `Last Activity`. Times lean to local business hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sample import vocab

WINDOW_DAYS = 120
MAX_SESSIONS = 20
MAX_PAGE_VIEWS = 40
# Local hours 8..20, peaking mid-morning and mid-afternoon.
_HOURS = tuple(range(8, 21))
_HOUR_WEIGHTS = (2, 6, 9, 10, 8, 6, 8, 9, 8, 6, 4, 3, 2)

# Per class (0, 1): probabilities and means that separate buyers from browsers.
P_PRICING_PAGE = (0.03, 0.09)
P_VIDEO_PER_SESSION = (0.08, 0.18)
P_DOWNLOAD_PER_SESSION = (0.04, 0.10)
P_DEMO_REQUEST = (0.05, 0.32)
P_TRIAL = (0.06, 0.28)
P_WEBINAR = (0.05, 0.18)
P_REPLY = (0.02, 0.12)
P_CLICK_PER_OPEN = (0.08, 0.20)
MEAN_OPENS = (2.2, 3.8)

# Source `Last Activity` -> the event type that closes the lead's window.
CLOSING_TYPE = {
    "Email Opened": "email_open",
    "Email Link Clicked": "email_click",
    "Page Visited on Website": "page_view",
    "Converted to Lead": "form_submit",
    "Form Submitted on Website": "form_submit",
    "Email Bounced": "bounce",
    "Unsubscribed": "unsubscribe",
}
EMAIL_TYPES = frozenset({"email_open", "email_click", "email_reply"})


@dataclass(frozen=True)
class Window:
    """When the lead was active: first touch at `start`, closing event at `end`."""

    start: datetime
    end: datetime
    kind: str  # history | dormant | hot | warm


@dataclass(frozen=True)
class Behaviour:
    """What drives one lead's events (all decided before any event is drawn)."""

    converted: int
    total_visits: int | None
    page_views_per_visit: float | None
    time_on_site_s: int
    lead_origin: str | None
    lead_source: str | None
    industry: str | None
    free_copy: bool
    last_activity: str | None
    emailable: bool  # consented and not opted out at sign-up
    unsubscribes: bool
    bounces: bool
    utc_offset_h: float


def plan_window(
    rng: random.Random, *, now: datetime, history: bool, utc_offset_h: float = 0.0
) -> Window:
    """History leads closed 3-105 days ago; open ones are dormant (> 90 days), hot (last 48 h)
    or warm. The first touch is 1-60 days before the closing event, never before the window."""
    earliest = now - timedelta(days=WINDOW_DAYS)
    if history:
        kind, lo, hi = "history", now - timedelta(days=105), now - timedelta(days=3)
    else:
        roll = rng.random()
        if roll < 0.25:
            kind, lo, hi = "dormant", now - timedelta(days=116), now - timedelta(days=91)
        elif roll < 0.55:
            kind, lo, hi = "hot", now - timedelta(hours=46), now - timedelta(minutes=30)
        else:
            kind, lo, hi = "warm", now - timedelta(days=90), now - timedelta(days=2)
    end = business_time(rng, lo, hi, utc_offset_h)
    start_lo = max(earliest, end - timedelta(days=60))
    start = business_time(rng, start_lo, end - timedelta(days=1), utc_offset_h)
    return Window(start=start, end=end, kind=kind)


def business_time(rng: random.Random, lo: datetime, hi: datetime, offset_h: float) -> datetime:
    """A moment in [lo, hi], usually moved to a weekday business hour in the lead's zone."""
    span = (hi - lo).total_seconds()
    for _ in range(6):
        moment = lo + timedelta(seconds=span * rng.random())
        if rng.random() < 0.8:
            local = moment + timedelta(hours=offset_h)
            if local.weekday() >= 5 and rng.random() < 0.75:
                local -= timedelta(days=local.weekday() - 4)  # weekend -> the Friday before
            hour = rng.choices(_HOURS, _HOUR_WEIGHTS)[0]
            local = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
            moment = local - timedelta(hours=offset_h)
        if lo <= moment <= hi:
            return _second(moment)
    return _second(lo + timedelta(seconds=span * rng.random()))


def build_events(rng: random.Random, b: Behaviour, w: Window) -> list[tuple[datetime, str, dict]]:
    """(occurred_at, type, properties) for one lead, sorted, all within [w.start, w.end]."""
    events: list[tuple[datetime, str, dict[str, Any]]] = []
    cls = b.converted
    courses = vocab.COURSE_BY_INDUSTRY.get(b.industry, vocab.COURSE_BY_INDUSTRY[None])
    latest = w.end - timedelta(minutes=30) if w.end - w.start > timedelta(hours=2) else w.end

    form = vocab.FORM_BY_ORIGIN.get(b.lead_origin or "")
    if form:
        path = f"/courses/{courses[0]}"
        events.append((w.start, "form_submit", {"form": form, "path": path}))
    if b.free_copy:
        asset, title = vocab.FREE_COPY_ASSET
        events.append((w.start + timedelta(seconds=40), "content_download",
                       {"asset": asset, "title": title}))

    sessions = _session_starts(rng, b, w, latest)
    for index, start in enumerate(sessions):
        events.extend(_session_events(rng, b, start, courses, len(sessions), first=index == 0))

    if sessions and rng.random() < P_DEMO_REQUEST[cls]:
        moment = business_time(rng, sessions[len(sessions) // 2], latest, b.utc_offset_h)
        events.append((moment, "demo_request", {"path": "/book-a-demo", "course": courses[0]}))
    if rng.random() < P_TRIAL[cls]:
        events.extend(_trial(rng, b, w.start, latest, courses[0]))
    if rng.random() < P_WEBINAR[cls]:
        moment = business_time(rng, w.start, latest, b.utc_offset_h)
        events.append((moment, "webinar_attended",
                       {"webinar": rng.choice(vocab.WEBINARS), "minutes": rng.randint(10, 60)}))

    events.extend(_email_events(rng, b, w, latest, courses))
    events = [e for e in events if w.start <= e[0] <= w.end]
    events.append(_closing_event(rng, b, w, courses, events))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


# --- pieces --------------------------------------------------------------------------------


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _session_starts(
    rng: random.Random, b: Behaviour, w: Window, latest: datetime
) -> list[datetime]:
    visits = 1 if b.total_visits is None else min(b.total_visits, MAX_SESSIONS)
    if visits == 0:
        return []
    starts = [w.start + timedelta(minutes=1)]
    starts += [business_time(rng, w.start, latest, b.utc_offset_h) for _ in range(visits - 1)]
    return sorted(starts)


def _session_events(
    rng: random.Random,
    b: Behaviour,
    start: datetime,
    courses: tuple[str, ...],
    n_sessions: int,
    *,
    first: bool,
) -> list[tuple[datetime, str, dict[str, Any]]]:
    cls = b.converted
    per_visit = b.page_views_per_visit if b.page_views_per_visit else 2.0
    budget = min(MAX_PAGE_VIEWS, max(n_sessions, round(n_sessions * per_visit)))
    pages = max(1, round(budget / n_sessions + rng.uniform(-0.5, 0.5)))
    session_s = max(5 * pages, b.time_on_site_s // max(n_sessions, 1))
    out: list[tuple[datetime, str, dict[str, Any]]] = []
    moment = start
    for page in range(pages):
        path = _entry_path(rng, b, courses) if page == 0 and first else _next_path(rng, courses)
        if page > 0 and rng.random() < P_PRICING_PAGE[cls]:
            out.append((moment, "pricing_page_view", {"path": "/pricing",
                                                     "url": vocab.SITE + "/pricing"}))
        else:
            dwell = max(5, round(session_s / pages * rng.uniform(0.5, 1.5)))
            out.append((moment, "page_view",
                        {"path": path, "url": vocab.SITE + path, "duration_s": dwell}))
        moment += timedelta(seconds=max(5, round(session_s / pages * rng.uniform(0.6, 1.4))))
    if rng.random() < P_VIDEO_PER_SESSION[cls]:
        out.append((moment, "video_watched",
                    {"video": rng.choice(vocab.VIDEOS), "percent": _watched_percent(rng, cls)}))
    if rng.random() < P_DOWNLOAD_PER_SESSION[cls]:
        asset, title = rng.choice(vocab.ASSETS)
        out.append((moment, "content_download", {"asset": asset, "title": title}))
    return out


def _watched_percent(rng: random.Random, cls: int) -> int:
    alpha, beta = (1.4, 2.2) if cls == 0 else (3.0, 1.3)
    return max(0, min(100, round(100 * rng.betavariate(alpha, beta))))


def _entry_path(rng: random.Random, b: Behaviour, courses: tuple[str, ...]) -> str:
    source = (b.lead_source or "").lower()
    if "search" in source or source in {"google", "facebook"}:
        return rng.choice((f"/courses/{courses[0]}", *vocab.BLOG_POSTS))
    if "reference" in source or "referral" in source:
        return rng.choice((f"/courses/{courses[0]}", *vocab.CASE_STUDIES))
    return rng.choice(("/", f"/courses/{courses[0]}"))


def _next_path(rng: random.Random, courses: tuple[str, ...]) -> str:
    roll = rng.random()
    if roll < 0.35:
        course = rng.choice(courses)
        return f"/courses/{course}" if rng.random() < 0.7 else f"/courses/{course}/syllabus"
    if roll < 0.45:
        return f"/courses/{rng.choice(vocab.COURSES)}"
    if roll < 0.65:
        return rng.choice(vocab.BLOG_POSTS)
    if roll < 0.73:
        return rng.choice(vocab.CASE_STUDIES)
    return rng.choice(vocab.GENERIC_PAGES)


def _trial(
    rng: random.Random, b: Behaviour, lo: datetime, hi: datetime, course: str
) -> list[tuple[datetime, str, dict[str, Any]]]:
    signup = business_time(rng, lo, hi, b.utc_offset_h)
    out: list[tuple[datetime, str, dict[str, Any]]] = [
        (signup, "trial_signup", {"plan": "free-trial", "course": course})
    ]
    moment = signup
    keep_going = 0.75 if b.converted else 0.45
    for milestone in vocab.MILESTONES:
        if rng.random() > keep_going:
            break
        moment += timedelta(hours=rng.uniform(2, 96))
        out.append((_second(moment), "product_milestone", {"milestone": milestone}))
    return out


def _email_events(
    rng: random.Random, b: Behaviour, w: Window, latest: datetime, courses: tuple[str, ...]
) -> list[tuple[datetime, str, dict[str, Any]]]:
    if not b.emailable or b.bounces:
        return []
    cls = b.converted
    stop = latest
    out: list[tuple[datetime, str, dict[str, Any]]] = []
    if b.unsubscribes and b.last_activity != "Unsubscribed":
        # Opted out part-way: the unsubscribe ends the email history.
        stop = business_time(rng, w.start + (w.end - w.start) / 3, latest, b.utc_offset_h)
        out.append((stop, "unsubscribe", {"campaign": rng.choice(vocab.CAMPAIGNS)}))
    n_opens = min(len(vocab.CAMPAIGNS), _poisson(rng, MEAN_OPENS[cls]))
    picked = sorted(rng.sample(range(len(vocab.CAMPAIGNS)), n_opens))
    times = sorted(business_time(rng, w.start, stop, b.utc_offset_h) for _ in picked)
    for index, moment in zip(picked, times, strict=True):
        campaign = vocab.CAMPAIGNS[index]
        out.append((moment, "email_open", {"campaign": campaign}))
        if rng.random() < P_CLICK_PER_OPEN[cls]:
            url = f"{vocab.SITE}/courses/{rng.choice(courses)}?utm_campaign={campaign}"
            click = moment + timedelta(seconds=rng.randint(20, 900))
            if click < stop:
                out.append((click, "email_click", {"campaign": campaign, "url": url}))
    if times and rng.random() < P_REPLY[cls]:
        moment = times[-1] + timedelta(hours=rng.uniform(0.2, 30))
        campaign = vocab.CAMPAIGNS[picked[-1]]
        if moment < stop:
            out.append((_second(moment), "email_reply", {"campaign": campaign}))
    return out


def _poisson(rng: random.Random, mean: float) -> int:
    limit, product, count = pow(2.718281828459045, -mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _closing_event(
    rng: random.Random,
    b: Behaviour,
    w: Window,
    courses: tuple[str, ...],
    earlier: list[tuple[datetime, str, dict[str, Any]]],
) -> tuple[datetime, str, dict[str, Any]]:
    """The lead's last event, at `w.end`: the drawn last activity when it can be an event."""
    kind = CLOSING_TYPE.get(b.last_activity or "")
    if b.bounces:
        kind = "bounce"
    elif b.unsubscribes and b.last_activity == "Unsubscribed":
        kind = "unsubscribe"
    elif kind in {"bounce", "unsubscribe"} or (
        kind in EMAIL_TYPES and (not b.emailable or b.unsubscribes)
    ):
        kind = None
    if kind is None:
        if b.total_visits:
            kind = "page_view"
        elif b.emailable and not b.unsubscribes:
            kind = "email_open"
        else:
            kind = "form_submit"
    campaign = next(
        (e[2]["campaign"] for e in reversed(earlier) if "campaign" in e[2]), vocab.CAMPAIGNS[0]
    )
    props: dict[str, Any]
    if kind == "page_view":
        path = _next_path(rng, courses)
        props = {"path": path, "url": vocab.SITE + path, "duration_s": rng.randint(10, 240)}
    elif kind == "form_submit":
        props = {"form": "callback-request", "path": "/contact"}
    elif kind == "email_click":
        props = {"campaign": campaign, "url": f"{vocab.SITE}/courses/{courses[0]}"}
    elif kind == "bounce":
        props = {"campaign": vocab.CAMPAIGNS[0], "bounce_type": "hard"}
    else:  # email_open, unsubscribe
        props = {"campaign": campaign}
    return (w.end, kind, props)
