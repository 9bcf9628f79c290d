"""Hand-offs to SDRs: the rule that says a lead is sales-ready, why now, a talk track, an SLA in
business hours; creating one is idempotent (one open hand-off per lead), a decision is final."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from knowledge.library import Asset, LibraryError, load_library
from store import crud
from store.models import Event, Handoff, Lead, LifecycleStage, OutcomeKind, utcnow
from tools.brief import ago, label, lead_brief
from tools.schemas import LeadBrief, Snippet

HIGH_INTENT_EVENTS = ("demo_request", "pricing_page_view", "trial_signup", "email_reply")
# Stages a hand-off has nothing left to do for.
CLOSED_STAGES = ("sql", "customer", "disqualified")
DECISIONS = ("accepted", "rejected")
# Reason codes an SDR picks when rejecting; they go back to scoring as rejected-MQL labels.
REJECT_REASONS: dict[str, str] = {
    "not_a_fit": "not a fit (role, company or need)",
    "no_budget": "no budget or funding",
    "bad_timing": "not now, revisit later",
    "no_authority": "not the person who decides",
    "wrong_contact": "wrong or unreachable contact",
    "already_customer": "already a customer or enrolled elsewhere",
    "duplicate": "duplicate of another lead",
    "no_response": "did not respond to outreach",
    "other": "other (say why in the note)",
}
# Site sections whose pages are content (read, watched) rather than navigation.
CONTENT_PATHS = ("/blog/", "/case-studies/", "/resources/", "/webinars/", "/videos/", "/tools/")
CONSUMED_TYPES = ("content_download", "webinar_attended", "video_watched", "page_view")


class HandoffError(ValueError):
    """A hand-off request that cannot be carried out; the message says why and what to do."""


class HandoffAlreadyDecided(HandoffError):
    """A second decision on a hand-off (a double click, or another SDR later)."""

    def __init__(self, handoff: Handoff) -> None:
        self.handoff = handoff
        when = handoff.decided_at.isoformat(timespec="minutes") if handoff.decided_at else "?"
        super().__init__(
            f"hand-off {handoff.id} was already {handoff.status} by {handoff.sdr or 'someone'} "
            f"at {when}; a decision cannot be changed"
        )


# --- the SLA in business hours ---------------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    """`hours` business hours to act: working days from `day_start` to `day_end` in `timezone`."""

    hours: float = 4.0
    timezone: str = "UTC"
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HandoffError(
                f"business time zone {self.timezone!r} is not an IANA zone name "
                "(e.g. Europe/London, Asia/Kolkata); set NURTURE_BUSINESS_TIMEZONE"
            ) from None
        if self.hours <= 0:
            raise HandoffError(f"SLA hours must be above 0, got {self.hours}")
        if self.day_start >= self.day_end:
            raise HandoffError(f"business day start {self.day_start} must be before its end")
        if not self.workdays or not self.workdays <= set(range(7)):
            raise HandoffError("workdays must be weekday numbers 0 (Monday) to 6 (Sunday)")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _is_workday(self, moment: datetime) -> bool:
        return moment.weekday() in self.workdays and moment.date() not in self.holidays

    def _at(self, moment: datetime, clock: time) -> datetime:
        return moment.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)

    def _open_from(self, local: datetime) -> datetime:
        """The first business moment at or after `local` (a local, aware datetime)."""
        for _ in range(400):  # a year of holidays at most
            if not self._is_workday(local) or local.time() >= self.day_end:
                local = self._at(local + timedelta(days=1), self.day_start)
            elif local.time() < self.day_start:
                local = self._at(local, self.day_start)
            else:
                return local
        raise HandoffError("no business day within a year: check workdays and holidays")

    def deadline(self, start: datetime) -> datetime:
        """When the SLA runs out for a hand-off created at `start` (UTC)."""
        # Same-zone arithmetic on aware datetimes is wall-clock time: business hours stay
        # 09:00-17:00 local across daylight-saving changes.
        cursor = self._open_from(_aware(start).astimezone(self.zone))
        remaining = timedelta(hours=self.hours)
        while True:
            available = self._at(cursor, self.day_end) - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(UTC)
            remaining -= available
            cursor = self._open_from(self._at(cursor + timedelta(days=1), self.day_start))

    def business_hours(self, start: datetime, end: datetime) -> float:
        """Business hours between two moments (0 when `end` is not after `start`)."""
        start, end = _aware(start), _aware(end)
        if end <= start:
            return 0.0
        local, stop = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta()
        day = local.date()
        while day <= stop.date():
            probe = datetime.combine(day, self.day_start, tzinfo=self.zone)
            if self._is_workday(probe):
                opens = max(probe, local)
                closes = min(datetime.combine(day, self.day_end, tzinfo=self.zone), stop)
                if closes > opens:
                    total += closes - opens
            day += timedelta(days=1)
        return round(total.total_seconds() / 3600, 2)


# --- the rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffRule:
    """When a lead goes to an SDR (DOMAIN.md defaults): a score above `score_above` with a
    high-intent event in the last `intent_window_hours`; or MQL by the two-axis rule; and any
    `immediate_events` event (a demo request) hands off at once."""

    score_above: float = 75.0
    intent_window_hours: float = 48.0
    high_intent_events: tuple[str, ...] = HIGH_INTENT_EVENTS
    immediate_events: tuple[str, ...] = ("demo_request",)
    mql_fit: float = 60.0
    mql_behaviour: float = 40.0
    mql_qualifies: bool = True
    sla: SlaPolicy = field(default_factory=SlaPolicy)

    def describe(self) -> str:
        events = ", ".join(self.high_intent_events)
        text = (
            f"hand off when the score is above {self.score_above:g} and the lead did one of "
            f"{events} in the last {self.intent_window_hours:g} h"
        )
        if self.mql_qualifies:
            text += (
                f"; or when it is an MQL (fit >= {self.mql_fit:g} and behaviour >= "
                f"{self.mql_behaviour:g})"
            )
        if self.immediate_events:
            text += f"; {' or '.join(self.immediate_events)} hands off at once"
        return text + f"; an SDR decides within {self.sla.hours:g} business hours"

    def as_dict(self) -> dict[str, Any]:
        return {
            "score_above": self.score_above,
            "intent_window_hours": self.intent_window_hours,
            "high_intent_events": list(self.high_intent_events),
            "immediate_events": list(self.immediate_events),
            "mql": {"fit": self.mql_fit, "behaviour": self.mql_behaviour}
            if self.mql_qualifies
            else None,
            "sla_business_hours": self.sla.hours,
            "business_timezone": self.sla.timezone,
            "description": self.describe(),
        }


@dataclass(frozen=True)
class HandoffCheck:
    """The rule applied to one lead now: whether it qualifies, which rule fired, and why."""

    lead_id: int
    qualifies: bool
    rule: str | None  # demo_request | score_and_intent | mql
    why_now: str
    blocked: str | None = None  # why not, when the lead cannot be handed off at all
    score: float | None = None
    decile: int | None = None
    fit: float | None = None
    behaviour: float | None = None
    intent: list[dict[str, Any]] = field(default_factory=list)  # newest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "qualifies": self.qualifies,
            "rule": self.rule,
            "why_now": self.why_now,
            "blocked": self.blocked,
            "score": self.score,
            "decile": self.decile,
            "fit": self.fit,
            "behaviour": self.behaviour,
            "intent": self.intent,
        }


def check_handoff(
    session: Session, *, lead_id: int, rule: HandoffRule | None = None, now: datetime | None = None
) -> HandoffCheck:
    """Apply the hand-off rule to a lead. After a rejected hand-off only intent that came later
    counts, so a rejected MQL is not handed straight back to sales."""
    rule = rule or HandoffRule()
    now = _aware(now or utcnow())
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise HandoffError(f"no lead with id {lead_id}")
    score = crud.latest_score(session, lead_id=lead_id)
    facts: dict[str, Any] = {
        "score": score.score if score else None,
        "decile": score.decile if score else None,
        "fit": score.fit if score else None,
        "behaviour": score.behaviour if score else None,
    }
    stage = str(lead.lifecycle_stage)
    if stage in CLOSED_STAGES:
        return HandoffCheck(lead_id, False, None, "", blocked=f"lead is already {stage}", **facts)
    if not lead.consent:
        return HandoffCheck(lead_id, False, None, "", blocked="lead withdrew consent", **facts)
    last = crud.latest_decided_handoff(session, lead_id=lead_id)
    rejected_at = last.decided_at if last is not None and last.status == "rejected" else None
    since = now - timedelta(hours=rule.intent_window_hours)
    if rejected_at is not None:
        since = max(since, _aware(rejected_at))
    intent = _intent_events(session, lead_id, rule.high_intent_events, since, now)
    facts["intent"] = intent
    fired = _which_rule(rule, facts, intent, session, lead_id, rejected_at, now)
    if fired is None:
        return HandoffCheck(lead_id, False, None, _not_yet(rule, facts, rejected_at), **facts)
    return HandoffCheck(lead_id, True, fired, why_now_text(fired, rule, facts, now), **facts)


def _which_rule(
    rule: HandoffRule,
    facts: dict[str, Any],
    intent: list[dict[str, Any]],
    session: Session,
    lead_id: int,
    rejected_at: datetime | None,
    now: datetime,
) -> str | None:
    types = {event["type"] for event in intent}
    if types & set(rule.immediate_events):
        return "demo_request" if "demo_request" in types else "immediate"
    if intent and facts["score"] is not None and facts["score"] > rule.score_above:
        return "score_and_intent"
    fit, behaviour = facts["fit"], facts["behaviour"]
    is_mql = (
        fit is not None
        and behaviour is not None
        and fit >= rule.mql_fit
        and behaviour >= rule.mql_behaviour
    )
    # A rejected MQL qualifies again only on new high-intent activity since the rejection.
    if (
        rule.mql_qualifies
        and is_mql
        and (
            rejected_at is None
            or _intent_events(session, lead_id, rule.high_intent_events, _aware(rejected_at), now)
        )
    ):
        return "mql"
    return None


def _intent_events(
    session: Session, lead_id: int, types: Sequence[str], since: datetime, now: datetime
) -> list[dict[str, Any]]:
    stmt = (
        select(Event.type, Event.occurred_at, Event.properties)
        .where(
            Event.lead_id == lead_id,
            col(Event.type).in_(list(types)),
            col(Event.occurred_at) > since,
            col(Event.occurred_at) <= now,
        )
        .order_by(col(Event.occurred_at).desc())
    )
    return [
        {"type": kind, "at": _aware(at).isoformat(), "properties": props or {}}
        for kind, at, props in session.exec(stmt)
    ]


def why_now_text(fired: str, rule: HandoffRule, facts: dict[str, Any], now: datetime) -> str:
    """One or two sentences an SDR reads first: what happened, when, and the score behind it."""
    intent: list[dict[str, Any]] = facts.get("intent") or []
    parts: list[str] = []
    said: dict[str, Any] | None = None  # the event the first sentence names
    if fired in ("demo_request", "immediate"):
        said = next(e for e in intent if e["type"] in rule.immediate_events)
        parts.append(f"{label(said['type']).capitalize()} {ago(said['at'], now)}")
    elif fired == "score_and_intent":
        said = intent[0]
        parts.append(
            f"Score {facts['score']:.0f} (above {rule.score_above:g}) and "
            f"{label(said['type'])} {ago(said['at'], now)}"
        )
    elif fired == "mql":
        parts.append(
            f"Marketing-qualified: fit {facts['fit']:.0f} (>= {rule.mql_fit:g}) and behaviour "
            f"{facts['behaviour']:.0f} (>= {rule.mql_behaviour:g})"
        )
    if facts.get("score") is not None and fired != "score_and_intent":
        parts.append(
            f"score {facts['score']:.0f}" + (", top decile" if facts["decile"] == 1 else "")
        )
    elif facts.get("decile") == 1:
        parts.append("top decile")
    counts = Counter(e["type"] for e in intent if e is not said)
    if counts:
        recent = ", ".join(f"{label(kind)} {n}×" for kind, n in counts.most_common())
        parts.append(f"also in the last {rule.intent_window_hours:g} h: {recent}")
    return "; ".join(parts) + "."


def _not_yet(rule: HandoffRule, facts: dict[str, Any], rejected_at: datetime | None) -> str:
    score = "no score yet" if facts["score"] is None else f"score {facts['score']:.0f}"
    window = f"{rule.intent_window_hours:g} h"
    text = f"not sales-ready: {score}, no high-intent event in the last {window}"
    if facts["fit"] is not None and facts["behaviour"] is not None:
        text += f", fit {facts['fit']:.0f} / behaviour {facts['behaviour']:.0f}"
    if rejected_at is not None:
        text += f" (an SDR rejected it on {rejected_at.date().isoformat()}; needs new intent)"
    return text


# --- the talk track ------------------------------------------------------------------------


class ContentLink(BaseModel):
    title: str
    url: str | None = None
    kind: str | None = None  # download, webinar, video, page; or the asset type to share


class TalkTrack(BaseModel):
    """What the SDR says and asks on the first call."""

    opening: str
    what_they_did: list[str] = Field(default_factory=list)
    pains: list[str] = Field(default_factory=list)
    content_consumed: list[ContentLink] = Field(default_factory=list)
    content_to_share: list[ContentLink] = Field(default_factory=list)
    questions: list[str] = Field(min_length=2, max_length=3)
    next_step: str

    def as_text(self) -> str:
        def links(items: list[ContentLink]) -> list[str]:
            return [f"- [{c.title}]({c.url})" if c.url else f"- {c.title}" for c in items]

        lines = [f"**Opening:** {self.opening}", "", "**What they did**"]
        lines += [f"- {line}" for line in self.what_they_did] or ["- (no recent activity)"]
        lines += ["", "**Pains and themes**", *[f"- {p}" for p in self.pains]]
        if self.content_consumed:
            lines += ["", "**Content they consumed**", *links(self.content_consumed)]
        if self.content_to_share:
            lines += ["", "**Share next**", *links(self.content_to_share)]
        lines += ["", "**Discovery questions**"]
        lines += [f"{i}. {q}" for i, q in enumerate(self.questions, 1)]
        lines += ["", f"**Next step:** {self.next_step}"]
        return "\n".join(lines)


def build_talk_track(
    brief: LeadBrief,
    snippets: Sequence[Snippet] = (),
    *,
    rule: str | None = None,
    consumed: Sequence[ContentLink] = (),
    trigger: str | None = None,
    seller: str | None = None,
    sla_due_at: datetime | None = None,
) -> TalkTrack:
    """A talk track from the lead brief and the retrieved snippets (nothing else is claimed)."""
    trigger = "demo_request" if rule in ("demo_request", "immediate") else trigger or brief.trigger
    themes = _themes(brief)
    return TalkTrack(
        opening=_opening(brief, trigger, themes, seller),
        what_they_did=_what_they_did(brief),
        pains=_pains(brief, snippets, themes, trigger),
        content_consumed=list(consumed)[:6],
        content_to_share=[
            ContentLink(title=s.title, url=s.url, kind=s.asset_type)
            for s in _unique_snippets(snippets, {c.url for c in consumed})
        ][:3],
        questions=_questions(brief, trigger, themes),
        next_step=_next_step(trigger, snippets, sla_due_at),
    )


def _themes(brief: LeadBrief) -> list[str]:
    found = list(brief.themes)
    found += [s.split(":", 1)[1] for s in brief.segments if s.startswith("mofu:")]
    return [t.replace("-", " ") for t in dict.fromkeys(found) if t and t != "general"]


def _opening(brief: LeadBrief, trigger: str | None, themes: list[str], seller: str | None) -> str:
    hello = f"Hi {brief.first_name}" if brief.first_name else "Hi"
    who = f"this is [your name] from {seller}" if seller else "this is [your name]"
    reason = {
        "demo_request": "thanks for asking for a demo; I'd like to make it about what you need",
        "trial_signup": "I saw you started the free trial; how is it going so far?",
        "pricing_page_view": "I noticed you were looking at pricing; happy to walk you through "
        "the options, including instalments and scholarships",
        "email_reply": "thanks for your reply; I wanted to pick it up personally",
    }.get(trigger or "")
    if reason is None:
        topic = f"our {themes[0]} material" if themes else "our material"
        reason = f"you've been reading {topic}; I'd like to help you decide on a next step"
    return f"{hello}, {who}: {reason}."


def _what_they_did(brief: LeadBrief) -> list[str]:
    lines = []
    if brief.score is not None:
        decile = f", decile {brief.decile}" if brief.decile else ""
        why = f": {'; '.join(brief.factors[:3])}" if brief.factors else ""
        lines.append(f"Score {brief.score:.0f}{decile}{why}")
    return lines + list(brief.recent_activity[:8])


def _pains(
    brief: LeadBrief, snippets: Sequence[Snippet], themes: list[str], trigger: str | None
) -> list[str]:
    pains = [
        f"Building {theme} skills (the course theme they engage with most)" for theme in themes
    ]
    if (brief.company_size or 0) > 500 or "enterprise" in brief.segments:
        company = brief.company or "their company"
        size = f" ({brief.company_size:,} people)" if brief.company_size else ""
        pains.append(f"Upskilling a team at {company}{size}: licences, rollout, security review")
    if trigger == "pricing_page_view" or "late:pricing" in brief.segments:
        pains.append("Cost and funding: instalments, scholarships, employer sponsorship")
    if trigger == "trial_signup" or "late:trial" in brief.segments:
        pains.append("Getting value from the trial before it ends")
    for snippet in snippets:
        if snippet.stage == "problem":
            pains.append(f"The problem they read about: {snippet.title}")
            break
    if brief.role:
        pains.append(
            f"Their role: {brief.role}" + (f" in {brief.industry}" if brief.industry else "")
        )
    return pains or ["Not stated yet: ask what prompted the interest"]


def _questions(brief: LeadBrief, trigger: str | None, themes: list[str]) -> list[str]:
    bank = []
    if trigger == "demo_request":
        bank.append("What would you most like to see in the live class?")
    if (brief.company_size or 0) > 500 or "enterprise" in brief.segments:
        bank.append("How many people on your team need these skills, and by when?")
    if trigger == "pricing_page_view" or "late:pricing" in brief.segments:
        bank.append("Is this self-funded, or would your employer sponsor it?")
    if trigger == "trial_signup" or "late:trial" in brief.segments:
        bank.append("What have you tried in the trial so far, and what is missing?")
    if themes:
        bank.append(f"What role do you want your {themes[0]} skills to lead to?")
    bank += [
        "What made now the right time to look at this?",
        "Who else is involved in the decision?",
    ]
    return list(dict.fromkeys(bank))[:3]


def _next_step(trigger: str | None, snippets: Sequence[Snippet], due: datetime | None) -> str:
    by = f" before {due.astimezone(UTC):%a %d %b %H:%M} UTC" if due else ""
    if trigger == "demo_request":
        return f"Confirm the demo slot and send the calendar invite{by}."
    closer = next((s for s in snippets if s.stage in ("decision", "vendor") and s.cta), None)
    if closer is not None:
        return f"Call{by}; offer: {closer.cta} ({closer.url})."
    return f"Call{by} and offer a 30-minute call to plan their next step."


def _unique_snippets(snippets: Sequence[Snippet], skip: set[str | None]) -> list[Snippet]:
    seen = set(skip)
    out = []
    for snippet in sorted(snippets, key=lambda s: s.stage not in ("decision", "vendor")):
        if snippet.url not in seen:
            seen.add(snippet.url)
            out.append(snippet)
    return out


# --- what the store knows about the lead -------------------------------------------------


def consumed_content(
    session: Session,
    *,
    lead_id: int,
    now: datetime | None = None,
    days: int = 90,
    library: Sequence[Asset] | None = None,
) -> list[ContentLink]:
    """Content the lead read, watched or downloaded (newest first), linked to the library."""
    now = _aware(now or utcnow())
    assets = _library() if library is None else list(library)
    stmt = (
        select(Event.type, Event.properties)
        .where(
            Event.lead_id == lead_id,
            col(Event.type).in_(CONSUMED_TYPES),
            col(Event.occurred_at) > now - timedelta(days=days),
            col(Event.occurred_at) <= now,
        )
        .order_by(col(Event.occurred_at).desc())
    )
    out: dict[str, ContentLink] = {}
    for kind, props in session.exec(stmt):
        link = _content_link(kind, dict(props or {}), assets)
        if link is not None:
            out.setdefault(link.url or link.title, link)
    return list(out.values())


def _content_link(kind: str, props: dict[str, Any], assets: Sequence[Asset]) -> ContentLink | None:
    path = str(props.get("path") or "")
    url = props.get("url")
    if kind == "page_view" and not path.startswith(CONTENT_PATHS):
        return None
    key = (
        props.get("asset") or props.get("webinar") or props.get("video") or path.rsplit("/", 1)[-1]
    )
    title = props.get("title")
    asset = _match_asset(str(key or ""), title, assets)
    label = {
        "content_download": "download",
        "webinar_attended": "webinar",
        "video_watched": "video",
    }
    if asset is not None:
        return ContentLink(title=asset.title, url=asset.url, kind=label.get(kind, "page"))
    if not key and not title:
        return None
    name = title or str(key).replace("-", " ").capitalize()
    return ContentLink(title=str(name), url=url, kind=label.get(kind, "page"))


def _match_asset(key: str, title: Any, assets: Sequence[Asset]) -> Asset | None:
    key = key.lower().strip("/")
    for asset in assets:
        slug = asset.url.rstrip("/").rsplit("/", 1)[-1].lower()
        if key and (slug == key or slug.startswith(key) or key.startswith(slug)):
            return asset
        if title and str(title).lower() == asset.title.lower():
            return asset
    return None


@lru_cache(maxsize=1)
def _default_library() -> tuple[Asset, ...]:
    try:
        return tuple(load_library())
    except LibraryError:
        return ()


def _library() -> list[Asset]:
    return list(_default_library())


# --- creating and deciding -------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffResult:
    handoff: Handoff
    created: bool  # False: the lead already had an open hand-off, returned as is


def create_handoff(
    session: Session,
    *,
    lead_id: int,
    reason: str | None = None,
    brief: LeadBrief | None = None,
    snippets: Sequence[Snippet] = (),
    rule: HandoffRule | None = None,
    seller: str | None = None,
    now: datetime | None = None,
) -> HandoffResult:
    """Hand a lead to an SDR: why now, a talk track and the SLA deadline; the lead becomes an MQL.

    Idempotent: a lead with an open hand-off gets that one back. Without `reason` the rule must
    qualify the lead; with one (an agent's or a marketer's decision) it is handed off anyway,
    unless it is already past the hand-off (SQL, customer, disqualified).
    """
    rule = rule or HandoffRule()
    now = _aware(now or utcnow())
    existing = crud.open_handoff(session, lead_id=lead_id)
    if existing is not None:
        return HandoffResult(existing, created=False)
    check = check_handoff(session, lead_id=lead_id, rule=rule, now=now)
    if check.blocked:
        raise HandoffError(f"lead {lead_id} cannot be handed off: {check.blocked}")
    if not check.qualifies and not reason:
        raise HandoffError(
            f"lead {lead_id} does not meet the hand-off rule ({check.why_now}); "
            "give a reason to hand it off anyway"
        )
    fired = check.rule if check.qualifies else "manual"
    why_now = check.why_now if check.qualifies else f"Handed off by decision: {reason}"
    if reason and check.qualifies and reason.strip() not in why_now:
        why_now = f"{why_now} Reason given: {reason.strip()}"
    brief = brief or lead_brief(session, lead_id=lead_id, now=now)
    due = rule.sla.deadline(now)
    trigger = check.intent[0]["type"] if check.intent else None
    track = build_talk_track(
        brief,
        snippets,
        rule=fired,
        consumed=consumed_content(session, lead_id=lead_id, now=now),
        trigger=trigger,
        seller=seller,
        sla_due_at=due,
    )
    row = Handoff(
        lead_id=lead_id,
        reason=why_now,
        talk_track=track.as_text(),
        rule=fired,
        details={
            "why_now": why_now,
            "requested_reason": reason,
            "check": check.as_dict(),
            "talk_track": track.model_dump(mode="json"),
            "sla_business_hours": rule.sla.hours,
            "business_timezone": rule.sla.timezone,
        },
        created_at=now,
        sla_due_at=due,
    )
    try:
        with session.begin_nested():  # a concurrent writer may have opened one meanwhile
            crud.add_handoff(session, handoff=row)
    except IntegrityError:
        existing = crud.open_handoff(session, lead_id=lead_id)
        if existing is None:
            raise
        return HandoffResult(existing, created=False)
    crud.advance_lifecycle(session, lead_id=lead_id, stage=LifecycleStage.mql, at=now)
    return HandoffResult(row, created=True)


def decide_handoff(
    session: Session,
    handoff_id: int,
    decision: str,
    sdr: str,
    reason: str | None = None,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> Handoff:
    """Record an SDR's verdict once. Accepted: the lead becomes an SQL and leaves its nurture
    sequence. Rejected (with a reason code from REJECT_REASONS): a rejected-MQL outcome that
    feeds the next scoring model; the lead stays in nurture."""
    now = _aware(now or utcnow())
    if decision not in DECISIONS:
        raise HandoffError(f"decision must be accepted or rejected, got {decision!r}")
    if not sdr or not sdr.strip():
        raise HandoffError("say who decides (the SDR's name or Slack id)")
    if decision == "rejected":
        if not reason:
            raise HandoffError(f"a rejection needs a reason code: {', '.join(REJECT_REASONS)}")
        if reason not in REJECT_REASONS:
            raise HandoffError(
                f"unknown reason code {reason!r}; use one of {', '.join(REJECT_REASONS)} "
                "(free text goes in the note)"
            )
    row = session.get(Handoff, handoff_id)
    if row is None:
        raise HandoffError(f"no hand-off with id {handoff_id}")
    if row.status != "pending":
        raise HandoffAlreadyDecided(row)
    created = _aware(row.created_at)
    decided = crud.decide_handoff(
        session,
        handoff_id=handoff_id,
        status=decision,
        sdr=sdr.strip(),
        decided_at=now,
        reject_reason=reason if decision == "rejected" else None,
        note=note,
        latency_s=max(0.0, (now - created).total_seconds()),
        within_sla=row.sla_due_at is None or now <= _aware(row.sla_due_at),
    )
    session.refresh(row)
    if not decided:  # someone else decided between our read and our write
        raise HandoffAlreadyDecided(row)
    if decision == "accepted":
        crud.advance_lifecycle(session, lead_id=row.lead_id, stage=LifecycleStage.sql, at=now)
        # An SQL belongs to sales now: its nurture sequence stops.
        running = crud.current_enrollment(session, lead_id=row.lead_id)
        if running is not None:
            crud.end_enrollment(session, enrollment=running, status="exited", at=now)
    else:
        text = reason if not note else f"{reason}: {note}"
        crud.add_outcomes(
            session,
            rows=[
                {
                    "lead_id": row.lead_id,
                    "kind": OutcomeKind.rejected_mql,
                    "reason": text,
                    "occurred_at": now,
                }
            ],
        )
    return row


def sla_state(handoff: Handoff, *, now: datetime | None = None, warn_hours: float = 1.0) -> str:
    """on_track | due_soon | breached for open hand-offs; met | missed once decided."""
    now = _aware(now or utcnow())
    due = _aware(handoff.sla_due_at) if handoff.sla_due_at else None
    if handoff.status != "pending":
        return "missed" if handoff.within_sla is False else "met"
    if due is None:
        return "on_track"
    if now > due:
        return "breached"
    return "due_soon" if due - now <= timedelta(hours=warn_hours) else "on_track"


def handoffs_needing_attention(
    session: Session, *, now: datetime | None = None, warn_hours: float = 1.0
) -> dict[str, list[Handoff]]:
    """Open hand-offs for the SLA timer: `due_soon` (remind the SDR) and `breached` (escalate
    to a manager), oldest first."""
    now = _aware(now or utcnow())
    out: dict[str, list[Handoff]] = {"due_soon": [], "breached": []}
    for row in crud.list_handoffs(session, status="pending"):
        state = sla_state(row, now=now, warn_hours=warn_hours)
        if state in out:
            out[state].append(row)
    return out


def handoff_view(handoff: Handoff, *, now: datetime | None = None) -> dict[str, Any]:
    """A hand-off as plain JSON-ready data (chat tools, the CLI, Slack cards)."""

    def stamp(moment: datetime | None) -> str | None:
        return _aware(moment).isoformat() if moment else None

    return {
        "id": handoff.id,
        "lead_id": handoff.lead_id,
        "status": handoff.status,
        "rule": handoff.rule,
        "why_now": handoff.reason,
        "talk_track": handoff.talk_track,
        "talk_track_parts": (handoff.details or {}).get("talk_track"),
        "created_at": stamp(handoff.created_at),
        "sla_due_at": stamp(handoff.sla_due_at),
        "sla": sla_state(handoff, now=now),
        "sdr": handoff.sdr,
        "decided_at": stamp(handoff.decided_at),
        "reject_reason": handoff.reject_reason,
        "note": handoff.decision_note,
        "latency_s": handoff.latency_s,
        "within_sla": handoff.within_sla,
    }


# --- small helpers ---------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
