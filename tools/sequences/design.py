"""Design a nurture sequence from a marketer's goal: segments, a content map by stage, a cadence,
triggers and the hand-off rule, plus the questions still open. The result's `definition` is
ready for `save_sequence`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.handoff import HandoffRule
from tools.sequences.cadence import schedule_days
from tools.sequences.errors import SequenceError
from tools.sequences.loader import parse_definition
from tools.sequences.model import SEGMENT_PATTERN_RE

# (query, stage, segment) -> content hits, each a mapping or object with title and url (and
# optionally stage and asset_type): the knowledge base's search, injected by the caller.
FindContent = Callable[[str, str | None, str | None], Iterable[Any]]

STAGES = ("problem", "solution", "vendor", "decision")
DESIGNED_PRIORITY = 25  # above the shipped core (10) and enterprise (20) tracks

# The 12-touch arc of DOMAIN.md: (theme, content stage, what the touch should achieve).
ARC: tuple[tuple[str, str, str], ...] = (
    ("welcome", "problem", "Open with an insight on the problem they came for, no pitch"),
    ("education", "problem", "Teach one useful idea they can apply this week"),
    ("benchmark", "solution", "Show where they stand against peers and what good looks like"),
    ("case study", "vendor", "Prove it worked for someone like them"),
    ("comparison", "solution", "Help them compare their options honestly"),
    ("feature deep-dive", "solution", "Show how the programme works in practice"),
    ("pricing and ROI", "decision", "Make the cost, the funding and the return concrete"),
    ("FAQ and objections", "decision", "Answer the objections that stall a decision"),
    ("book a call", "vendor", "Ask for the conversation: a counselling call or live class"),
    ("re-engagement", "problem", "Try a new angle for leads who went quiet"),
    ("what's new", "solution", "Give a fresh reason to look again"),
    ("last call", "decision", "Close the loop with a direct, friendly ask"),
)
# Which arc touches to keep when fewer are wanted, most essential first.
ESSENTIAL = (
    "welcome", "book a call", "case study", "pricing and ROI", "education", "comparison",
    "FAQ and objections", "benchmark", "feature deep-dive", "re-engagement", "what's new",
    "last call",
)  # fmt: skip

# Words in a goal -> the segment they mean (tools/segments/segments.yaml names).
SEGMENT_WORDS: dict[str, tuple[str, ...]] = {
    "late:demo": (
        "requested a demo",
        "asked for a demo",
        "demo request",
        "post-demo",
        "booked a demo",
    ),
    "late:pricing": ("pricing page", "viewed pricing", "visited pricing", "looked at pricing"),
    "late:trial": (
        "trial users",
        "trial sign-ups",
        "trial signups",
        "started a trial",
        "signed up for a trial",
    ),
    "late:reply": ("replied", "email replies"),
    "re-engage": (
        "dormant",
        "re-engage",
        "reengage",
        "win back",
        "win-back",
        "inactive",
        "gone quiet",
        "silent",
    ),
    "enterprise": ("enterprise", "large companies", "large company", "500+", "corporate"),
    "mofu:data-science": ("data science", "data scientist", "machine learning"),
    "mofu:product-management": ("product management", "product manager"),
    "mofu:digital-marketing": ("digital marketing",),
    "mofu:hr-analytics": ("hr analytics", "people analytics"),
    "mofu:supply-chain-analytics": ("supply chain analytics",),
    "mofu:finance-for-managers": ("finance for managers",),
    "mofu:healthcare-management": ("healthcare management",),
    "mofu:mba-essentials": ("mba",),
    "mofu:business-analytics": ("business analytics", "analytics"),
}
# Words in a goal -> the industry (slug of the lead's `industry`, as in `tofu:<industry>`).
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "financial-services": ("fintech", "financial services", "banking", "banks", "insurance"),
    "technology": ("tech companies", "technology", "software", "saas"),
    "healthcare": ("healthcare", "hospital", "pharma"),
    "retail-e-commerce": ("retail", "e-commerce", "ecommerce"),
    "manufacturing": ("manufacturing",),
    "logistics-supply-chain": ("logistics", "supply chain"),
    "professional-services": ("consulting", "professional services"),
    "marketing-advertising": ("marketing agencies", "advertising"),
    "media": ("media companies", "publishers", "broadcasters"),
}
# Company sizes in a goal -> (min, max) people; `enterprise` (above 500) is a segment.
SIZE_WORDS: dict[str, tuple[int | None, int | None]] = {
    "mid-market": (100, 500),
    "mid market": (100, 500),
    "midsize": (100, 500),
    "smb": (None, 99),
    "small business": (None, 99),
    "small businesses": (None, 99),
    "startups": (None, 99),
    "sme": (None, 99),
}
# Behaviour in a goal -> the event that can enrol a lead the moment it happens.
EVENT_WORDS: dict[str, tuple[str, ...]] = {
    "content_download": ("downloaded", "download"),
    "webinar_attended": ("attended", "webinar"),
    "video_watched": ("watched",),
    "trial_signup": ("signed up",),
}
CTA_WORDS = ("demo", "call", "trial", "enrol", "enroll", "book", "reply", "meeting", "sign up")
# fmt: off
STOP_WORDS = frozenset({
    "a", "an", "and", "the", "for", "to", "of", "in", "on", "with", "who", "that", "which",
    "leads", "lead", "nurture", "nurturing", "design", "create", "build", "make", "sequence",
    "day", "days", "week", "weeks", "month", "months", "please", "our", "my", "their",
})
# fmt: on

TRIGGERS: tuple[dict[str, str], ...] = (
    {"when": "pricing_page_view", "then": "jump ahead to the decision-stage touches"},
    {"when": "demo_request", "then": "hand off to an SDR now and move to the post-demo track"},
    {"when": "3+ product-page visits in 7 days", "then": "send a 'ready to talk?' touch"},
    {"when": "case-study download, then 14 days silent", "then": "send a 'thoughts?' touch"},
    {"when": "3 unopened emails in a row", "then": "pause 7-14 days, then a new angle or sender"},
    {"when": "unsubscribe or bounce", "then": "stop everything for this lead"},
)


def design_sequence(
    goal: str,
    segment: str | None = None,
    days: int = 60,
    touches: int | None = None,
    find_content: FindContent | None = None,
    handoff_rule: HandoffRule | None = None,
) -> dict[str, Any]:
    """A sequence proposal for `goal`: JSON-ready, with a valid `definition` to save."""
    goal = " ".join(str(goal or "").split())
    if not goal:
        raise SequenceError("describe the goal, e.g. 'a 60-day nurture for fintech leads'")
    text = goal.lower()
    stated = _days_in(text)
    if days == 60 and stated is not None:  # the default, and the goal names its own window
        days = stated
    step_days = schedule_days(days, touches)
    missing: list[str] = []

    audience = _audience(text, segment, missing)
    segments = audience.segments
    search_segment = next((s for s in segments if "*" not in s), None)
    if search_segment is None and audience.industries:
        search_segment = f"tofu:{audience.industries[0]}"  # how content is tagged by industry
    plan = _arc(len(step_days))
    high_intent = any(s.startswith("late:") or s == "enterprise" for s in segments)
    enterprise = "enterprise" in segments

    content_map = {
        stage: _find(find_content, goal, stage, search_segment, limit=3) for stage in STAGES
    }
    steps: list[tuple[int, dict[str, Any], Any]] = []
    used: set[str] = set()
    for number, (day, (theme, stage, aim)) in enumerate(zip(step_days, plan, strict=True), 1):
        hit = _pick(find_content, f"{theme} {goal}", stage, search_segment, used)
        if hit is not None:
            used.add(hit["url"])
        channel = "email"
        if theme == "case study" and high_intent:
            channel = "video"  # a personalized video for high-intent buyers (DOMAIN.md)
        if theme == "book a call" and enterprise:
            channel = "sdr_task"
        step: dict[str, Any] = {
            "day": day, "stage": stage, "theme": theme, "channel": channel, "goal": aim,
        }  # fmt: skip
        if hit is not None:
            step["content"] = hit["url"]
        steps.append((number, step, hit))
    _branch_case_study_to_call(steps)
    _content_questions(find_content, steps, missing)
    if not any(word in text for word in CTA_WORDS):
        missing.append(
            "What should a lead do at the end: book a counselling call, start a trial, or reply?"
        )

    name = _name(goal)
    definition = parse_definition(
        {
            "name": name,
            "description": goal,
            "goal": goal,
            "priority": DESIGNED_PRIORITY,
            "enrol": audience.enrol_rules(),
            "exit": {
                "events": ["unsubscribe", "bounce"]
                + ([] if "late:demo" in segments else ["demo_request"]),
            },
            "steps": [step for _, step, _ in steps],
            "evergreen": {"every_days": 30, "stage": "solution", "theme": "what's new"},
        },
        source="designed sequence",
    )
    rule = handoff_rule or HandoffRule()
    return {
        "name": name,
        "goal": goal,
        "segments": segments,
        "industries": audience.industries,
        "company_size": audience.company_size,
        "enrol_on_events": audience.events,
        "content_map": content_map,
        "cadence": {
            "days": days,
            "touches": len(step_days),
            "spacing": "Fibonacci-like days 1, 3, 6, 11, 19, 32, longer gaps split to fit",
            "evergreen": f"one touch a month after day {step_days[-1]}",
            "steps": [
                {**step, "content_title": hit["title"] if hit else None} for _, step, hit in steps
            ],
        },
        "triggers": [dict(t) for t in TRIGGERS],
        "handoff_rule": rule.as_dict(),
        "missing": missing,
        "definition": definition.as_data(),
    }


def _days_in(text: str) -> int | None:
    match = re.search(r"(\d{1,3})[- ]?days?\b", text)
    return int(match.group(1)) if match else None


@dataclass
class Audience:
    """Who the goal is about, as enrolment rules."""

    segments: list[str]
    industries: list[str] = field(default_factory=list)
    company_size: dict[str, int] | None = None
    events: list[str] = field(default_factory=list)

    def enrol_rules(self) -> dict[str, Any]:
        rules: dict[str, Any] = {"segments": self.segments, "on_events": self.events}
        if self.industries:
            rules["industries"] = self.industries
        if self.company_size:
            rules["company_size"] = self.company_size
        return rules


def _audience(text: str, segment: str | None, missing: list[str]) -> Audience:
    events = [event for event, words in EVENT_WORDS.items() if _mentions(text, words)]
    if segment:
        names = [s.strip() for s in segment.split(",") if s.strip()]
        bad = [s for s in names if not SEGMENT_PATTERN_RE.match(s)]
        if bad:
            raise SequenceError(
                f"segment {bad[0]!r} is not a segment name or pattern (e.g. mofu:*, enterprise)"
            )
        return Audience(names, events=events)
    rest = f" {text} "
    found = _take(rest, SEGMENT_WORDS)
    found.sort(key=list(SEGMENT_WORDS).index)  # intent and dormancy, size, then theme
    industries = _take(rest, INDUSTRY_WORDS)
    size = next((bounds for word, bounds in SIZE_WORDS.items() if _mentions(text, [word])), None)
    company_size = None
    if size is not None:
        company_size = {k: v for k, v in zip(("min", "max"), size, strict=True) if v is not None}
        low, high = size
        where = f"{low}-{high} people" if low is not None else f"up to {high} people"
        missing.append(
            f"Company size read as {where} ('enterprise' starts above 500): change it if you "
            "mean otherwise."
        )
    if events:
        missing.append(
            f"The draft enrols matching leads the moment they do {' or '.join(events)} (any "
            "asset, not one in particular; earlier ones are not enrolled): is that right, or "
            "should every matching lead enter?"
        )
    if not found and (industries or company_size):
        found = ["tofu:*", "mofu:*", "late:*"]  # every funnel stage, narrowed by the fields
    elif not found:
        missing.append(
            "Which leads should enter? Name a segment (e.g. mofu:data-science, enterprise, "
            "re-engage) or an industry; the draft enrols tofu:* and mofu:*."
        )
        found = ["tofu:*", "mofu:*"]
    return Audience(found, industries, company_size, events)


def _take(rest: str, vocabulary: Mapping[str, Sequence[str]]) -> list[str]:
    """Keys whose words appear in `rest`, longest words first (so 'hr analytics' is not also
    'analytics')."""
    found: list[str] = []
    phrases = sorted(
        ((word, key) for key, words in vocabulary.items() for word in words),
        key=lambda item: -len(item[0]),
    )
    for word, key in phrases:
        pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])"
        if re.search(pattern, rest):
            rest = re.sub(pattern, " ", rest)
            if key not in found:
                found.append(key)
    return found


def _mentions(text: str, words: Iterable[str]) -> bool:
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text) for w in words)


def _arc(touches: int) -> list[tuple[str, str, str]]:
    if touches <= len(ARC):
        keep = set(ESSENTIAL[:touches])
        return [item for item in ARC if item[0] in keep]
    extra = [("what's new", "solution", "Give a fresh reason to look again")]
    return [*ARC[:-1], *extra * (touches - len(ARC)), ARC[-1]]


def _find(
    find_content: FindContent | None, query: str, stage: str, segment: str | None, limit: int
) -> list[dict[str, Any]]:
    if find_content is None:
        return []
    hits = [_hit(item) for item in find_content(query, stage, segment)]
    if not hits and segment is not None:
        hits = [_hit(item) for item in find_content(query, stage, None)]
    unique: dict[str, dict[str, Any]] = {}
    for hit in hits:
        if hit["url"] and (hit["stage"] in (None, stage)):
            unique.setdefault(hit["url"], hit)
    return list(unique.values())[:limit]


def _pick(
    find_content: FindContent | None, query: str, stage: str, segment: str | None, used: set[str]
) -> dict[str, Any] | None:
    hits = _find(find_content, query, stage, segment, limit=10)
    fresh = [hit for hit in hits if hit["url"] not in used]
    return (fresh or hits)[0] if hits else None


def _hit(item: Any) -> dict[str, Any]:
    def get(key: str) -> Any:
        if isinstance(item, Mapping):
            return item.get(key)
        return getattr(item, key, None)

    return {
        "title": get("title") or get("url") or "untitled",
        "url": get("url"),
        "stage": get("stage"),
        "asset_type": get("asset_type"),
    }


def _branch_case_study_to_call(steps: Sequence[tuple[int, dict[str, Any], Any]]) -> None:
    """Clicked the case study -> straight to the call to action (DOMAIN.md)."""
    case = next((n for n, step, _ in steps if step["theme"] == "case study"), None)
    call = next((n for n, step, _ in steps if step["theme"] == "book a call"), None)
    if case is not None and call is not None and call > case + 1:
        steps[case - 1][1]["branch"] = {
            "when": "email_click",
            "within_days": 5,
            "then": {"step": call},
        }


def _content_questions(
    find_content: FindContent | None,
    steps: Sequence[tuple[int, dict[str, Any], Any]],
    missing: list[str],
) -> None:
    if find_content is None:
        missing.append("No content search was given: which asset should each touch use?")
        return
    gaps: dict[str, list[str]] = {}
    for _, step, hit in steps:
        if hit is None:
            gaps.setdefault(step["stage"], []).append(step["theme"])
    for stage, themes in gaps.items():
        missing.append(
            f"No {stage}-stage content matched ({', '.join(themes)}): which asset should "
            f"{'it' if len(themes) == 1 else 'they'} use, or should the touch be dropped?"
        )


def _name(goal: str) -> str:
    clause = re.split(r"[,;:.!?]", goal.lower(), maxsplit=1)[0]  # the main clause names it
    words = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", clause)
    kept = [w for w in words if w not in STOP_WORDS and not re.fullmatch(r"\d+(-days?)?", w)]
    slug = "-".join(kept[:5]) or "nurture"
    return slug[:60].strip("-")
