"""The offline drafter: emails and video scripts built only from the lead record and snippets.

Every fact in a draft is a sentence (or table row) quoted from a retrieved snippet; the rest is
fixed wording around the lead's own first name, role, company and what they did. Lead-provided
free text (`notes`) is never read, so nothing a lead writes can change a draft.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tools.decide import choose_next_action, main_theme
from tools.drafting import personal
from tools.drafting.text import (
    Fact,
    facts,
    is_label,
    lower_first,
    short_label,
    standalone,
    topic_name,
    truncate,
    words_of,
)
from tools.schemas import DecisionContext, EmailDraft, Shot, Snippet, Stage, VideoScript

TEMPLATE_ID = "templates"
TEMPLATE_VERSION = "1"
SPOKEN_WORDS_PER_SECOND = 2.5
FRESH_ANGLE_UNOPENED = 3

TRIGGER_KEYWORDS: dict[str, set[str]] = {
    "pricing_page_view": {
        "fee", "fees", "price", "pricing", "instalments", "scholarship", "scholarships",
        "emi", "refund", "pay", "discount",
    },
    "trial_signup": {"trial", "lesson", "module", "mentor"},
    "product_milestone": {"trial", "lesson", "module", "capstone"},
    "webinar_attended": {"webinar", "live", "class", "classes", "hiring"},
    "video_watched": {"video", "preview", "class", "live"},
    "content_download": {"guide", "framework", "career", "route", "download"},
}  # fmt: skip
STAGE_KEYWORDS: dict[str, set[str]] = {
    "problem": {"gap", "stall", "skills", "finish", "week", "time", "decisions"},
    "solution": {"route", "programme", "cohort", "live", "mentor", "career", "compare"},
    "vendor": {"team", "results", "cohort", "capstone", "mentor", "licence", "pilot"},
    "decision": {"fee", "refund", "scholarship", "instalments", "price", "enrol", "decide"},
}
STOPWORDS = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "&"}
ENTERPRISE_KEYWORDS = {"team", "teams", "company", "companies", "seats", "licence", "managers"}

# What the lead did, in words a person would use (grounded in the trigger event alone).
HOOKS: dict[str, str] = {
    "pricing_page_view": "You were looking at our programme fees, so here are the facts people "
    "usually ask about first.",
    "trial_signup": "Thanks for starting your trial.",
    "product_milestone": "Good progress in your trial so far.",
    "webinar_attended": "Thanks for joining our webinar.",
    "video_watched": "Thanks for watching our video.",
    "content_download": "Thanks for downloading from our library.",
    "email_click": "Thanks for reading our last email.",
    "form_submit": "Thanks for getting in touch.",
}
# Each wording comes in two forms: with the lead's course topic, and without one.
STAGE_HOOKS: dict[Stage, tuple[str, str]] = {
    "problem": (
        "If {topic} is on your list this year, one finding is worth a minute.",
        "Here is one finding worth a minute of your time.",
    ),
    "solution": (
        "If you are weighing up how to learn {topic}, one point is worth knowing.",
        "If you are weighing up how to learn something new while working, one point is worth "
        "knowing.",
    ),
    "vendor": (
        "Here is what {topic} training looks like in practice.",
        "Here is what this looks like in practice.",
    ),
    "decision": (
        "Before you decide, here are the plain facts.",
        "Before you decide, here are the plain facts.",
    ),
}
FRESH_HOOK = (
    "I have written to you a few times about {topic}, so here is a different angle.",
    "I have written to you a few times, so here is a different angle.",
)
SUBJECTS: dict[Stage, tuple[tuple[str, str], ...]] = {
    "problem": (
        ("is {topic} on your list this year?", "is learning something new on your list?"),
        ("the {topic} skills gap, in plain words", "the skills gap, in plain words"),
        (
            "why plans to learn {topic} stall, and what helps",
            "why plans to learn while working stall, and what helps",
        ),
    ),
    "solution": (
        ("a realistic route into {topic}", "a realistic route to a new skill"),
        ("learning {topic} without quitting your job", "learning without quitting your job"),
        ("comparing the ways to learn {topic}", "comparing the ways to learn while you work"),
    ),
    "vendor": (
        ("what {topic} training looks like in practice", "what training looks like in practice"),
        ("{title}", "{title}"),
    ),
    "decision": (
        ("the honest answers before you decide on {topic}", "the honest answers before you decide"),
        ("before you decide: {title}", "before you decide: {title}"),
    ),
}
COMPANY_SUBJECTS: dict[Stage, tuple[str, str]] = {
    "problem": ("a question about {topic} at {company}", "a question about skills at {company}"),
    "vendor": (
        "how a team like {company}'s could build {topic} skills",
        "how a team like {company}'s could build new skills",
    ),
}
PRICING_SUBJECT = (
    "what {topic} costs, and the ways to pay",
    "what a programme costs, and the ways to pay",
)
TRIAL_SUBJECT = ("getting the most from your trial", "getting the most from your trial")
RE_ENGAGE_SUBJECT = ("{title}", "{title}")
FRESH_SUBJECTS = (
    ("is {topic} still on your list?", "is learning something new still on your list?"),
    ("one question about {topic}", "one quick question"),
    ("should I stop writing about {topic}?", "should I stop writing?"),
)
_ANAPHORA = re.compile(r"\b(?:them|these|those|this one|the above|such)\b", re.IGNORECASE)
_PRICE_WORDS = re.compile(r"\b(?:fee|fees|price|pricing|₹|instalments?)\b", re.IGNORECASE)


class DraftingError(ValueError):
    """A draft cannot be written from this context (no content to ground it, say)."""


@dataclass(frozen=True)
class _Plan:
    """What the email and video templates share: who, what stage, which facts, which CTA."""

    ctx: DecisionContext
    first: str | None
    company: str | None
    role: str | None
    topic: str | None
    stage: Stage
    trigger: str | None
    fresh_angle: bool
    primary: Snippet
    insight: Fact
    detail: Fact | None
    spare: tuple[Fact, ...]
    cta: str
    sources: tuple[str, ...]


def template_email(ctx: DecisionContext) -> EmailDraft:
    """A 2-3 paragraph nurture email: insight first, a detail for their role, one CTA."""
    plan = _plan(ctx)
    paragraphs = [f"{_hook(plan)} {plan.insight.text}"]
    if plan.detail is not None:
        paragraphs.append(f"{_lead_in(plan)} {plan.detail.text}")
    paragraphs.append(_cta_sentence(plan))
    return EmailDraft(
        subject=_subject(plan),
        # the inbox shows the preview next to the subject: the detail, not the opening again
        preview=truncate((plan.detail or plan.insight).text, 140),
        paragraphs=paragraphs,
        cta_text=short_label(plan.cta),
        cta_url=plan.primary.url,
        sources=list(plan.sources),
    )


def template_video_script(ctx: DecisionContext) -> VideoScript:
    """A 30-60 s script: greeting by name, their context, one point, one CTA, with shot notes."""
    plan = _plan(ctx)
    site = personal.website(ctx.lead)
    sender = ctx.sender
    rep = sender.name if sender is not None else "The rep"
    name = plan.first or "there"
    backdrop = (
        f"{site} scrolls slowly in a browser window behind {rep}"
        if site
        else f"a plain branded backdrop behind {rep}"
    )
    greeting = f"Hi {name}, I'm {sender.name} from {sender.company}." if sender else f"Hi {name}."
    if plan.company:
        greeting += f" I made this short video for you and the team at {plan.company}."
    context_line = _hook(plan)
    if plan.role and personal.is_life_stage(plan.role):
        context_line += f" Since you are {personal.role_phrase(plan.role)}, one point stands out."
    elif plan.role:
        at = f" at {plan.company}" if plan.company else ""
        context_line += (
            f" Since you work as {personal.role_phrase(plan.role)}{at}, one point stands out."
        )
    label = short_label(plan.cta)
    lower_third = ", ".join(part for part in (plan.first, plan.role, plan.company) if part)
    shots = [
        _shot(greeting, f"{rep} on camera, framed left; {backdrop}."),
        _shot(
            context_line,
            f"Same frame; lower third reads '{lower_third}'." if lower_third else "Same frame.",
        ),
        _shot(plan.insight.text, f"Cut to a title card: “{plan.primary.title}”."),
        _shot(
            # a viewer cannot reply to a video: a conversational CTA becomes its button
            f"{_sentence(label if '?' in plan.cta else plan.cta)} "
            "The link is right below this video.",
            f"Back to {rep}; an on-screen button '{label}' links to {plan.primary.url}.",
        ),
        _shot(
            f"Thanks, {plan.first}. Talk soon." if plan.first else "Thanks for watching.",
            f"{rep} smiles; end card with the button.",
        ),
    ]
    shots = _fit_duration(shots, plan)
    return VideoScript(
        title=truncate(f"For {plan.first or 'you'}: {_short_title(plan.primary.title)}", 90),
        background_url=site,
        shots=shots,
        cta_text=label,
        cta_url=plan.primary.url,
        sources=list(plan.sources),
    )


# --- planning ---------------------------------------------------------------------------------


def _plan(ctx: DecisionContext) -> _Plan:
    if not ctx.snippets:
        raise DraftingError(
            f"lead {ctx.lead.lead_id}: no content was retrieved, so there is nothing to ground "
            "a draft in; index the content library and retrieve for the lead's stage first"
        )
    lead = ctx.lead
    action = ctx.action or choose_next_action(ctx)
    theme = action.theme or main_theme(lead)
    topic = topic_name(theme)
    keywords = _keywords(ctx, theme, action.stage)
    ranked = sorted(
        enumerate(ctx.snippets),
        key=lambda item: (
            -_snippet_score(item[1], item[0], action.stage, keywords)
            - (2.0 if _has_opener(item[1]) else 0.0)
        ),
    )
    primary = ranked[0][1]
    candidates: list[tuple[float, Fact, Snippet]] = []
    for rank, (_, snippet) in enumerate(ranked):
        for fact in facts(snippet.text):
            if not standalone(fact):
                continue
            if fact.kind == "row" and not _row_matches(fact, theme):
                continue
            score = _fact_score(fact, keywords) - 1.5 * rank
            candidates.append((score, fact, snippet))
    candidates.sort(key=lambda item: -item[0])
    from_primary = [item for item in candidates if item[2] is primary]
    openers = [item for item in candidates if not is_label(item[1]) and not item[1].listed]
    # An opener from the asset of the call to action reads best; else the best one elsewhere.
    insight_pool = (
        [item for item in openers if item[2] is primary]
        or [item for item in from_primary if not is_label(item[1])]
        or openers
        or from_primary
    )
    if insight_pool:
        insight = insight_pool[0][1]
    else:
        insight = Fact(
            f"Our {primary.asset_type or 'guide'} “{primary.title}” is worth a look.", "title"
        )
    rest = [item for item in candidates if item[1] != insight and not _overlaps(item[1], insight)]
    detail_item = rest[0] if rest else None
    detail = detail_item[1] if detail_item else None
    insight_source = next((item[2] for item in insight_pool if item[1] == insight), primary)
    used = [primary.url, insight_source.url] + ([detail_item[2].url] if detail_item else [])
    spare = tuple(item[1] for item in rest[1:6] if item[1].kind == "sentence")
    return _Plan(
        ctx=ctx,
        first=personal.first_name(lead),
        company=personal.company(lead),
        role=personal.role(lead),
        topic=topic,
        stage=action.stage,
        trigger=lead.trigger,
        fresh_angle=lead.unopened_in_a_row >= FRESH_ANGLE_UNOPENED,
        primary=primary,
        insight=insight,
        detail=detail,
        spare=spare,
        cta=(primary.cta or f"Read “{primary.title}”").strip(),
        sources=tuple(dict.fromkeys(used)),
    )


def _keywords(ctx: DecisionContext, theme: str | None, stage: Stage) -> dict[str, set[str]]:
    lead = ctx.lead
    keywords = {
        "theme": set(words_of(theme.replace("-", " "))) if theme else set(),
        "role": set(words_of(lead.role or "")) - {"senior", "junior", "head", "lead"},
        "industry": set(words_of(lead.industry or "")) - {"services"},
        "trigger": TRIGGER_KEYWORDS.get(lead.trigger or "", set()),
        "stage": STAGE_KEYWORDS[stage],
        "enterprise": ENTERPRISE_KEYWORDS if "enterprise" in lead.segments else set(),
    }
    return {key: words - STOPWORDS for key, words in keywords.items()}


WEIGHTS = {"theme": 3.0, "role": 1.5, "industry": 1.0, "trigger": 1.5, "stage": 0.5}


def _fact_score(fact: Fact, keywords: dict[str, set[str]]) -> float:
    words = set(words_of(fact.text))
    score = sum(weight * len(words & keywords[key]) for key, weight in WEIGHTS.items())
    score += 1.0 if words & keywords["enterprise"] else 0.0
    score += 1.0 if any(ch.isdigit() for ch in fact.text) else 0.0  # concrete beats vague
    score += 0.5 if words & {"you", "your"} else 0.0
    score += 0.5 if 10 <= fact.words <= 30 else 0.0
    score -= 0.75 if re.match(r"^(?:we|our)\b", fact.text, re.IGNORECASE) else 0.0  # no pitch
    # Leaning on what came before ("gives you them") or a bare list reads badly on its own.
    score -= 1.0 if _ANAPHORA.search(fact.text) else 0.0
    score -= 1.5 if fact.words < 5 * fact.text.count(",") else 0.0
    return score


def _snippet_score(
    snippet: Snippet, rank: int, stage: Stage, keywords: dict[str, set[str]]
) -> float:
    words = set(words_of(f"{snippet.title} {snippet.cta or ''}"))
    score = 2.0 if snippet.stage == stage else 0.0
    score += 1.5 * len(words & keywords["theme"]) + 1.0 * len(words & keywords["trigger"])
    score += 0.5 * len(words & keywords["enterprise"])
    return score - 0.5 * rank  # retrieval order is the best single signal


def _has_opener(snippet: Snippet) -> bool:
    """Does the snippet hold a sentence good enough to open an email with?"""
    return any(
        standalone(fact) and not is_label(fact) and not fact.listed for fact in facts(snippet.text)
    )


def _row_matches(fact: Fact, theme: str | None) -> bool:
    """A table row is quoted only when it is about the lead's own course."""
    if not theme:
        return False
    label = set(words_of(fact.text.split(":", 1)[0]))
    wanted = set(words_of(theme.replace("-", " ")))
    return bool(wanted) and wanted <= label


def _overlaps(a: Fact, b: Fact) -> bool:
    words_a, words_b = set(words_of(a.text)), set(words_of(b.text))
    return len(words_a & words_b) > 0.6 * min(len(words_a), len(words_b))


# --- wording ------------------------------------------------------------------------------------


def _hook(plan: _Plan) -> str:
    if plan.fresh_angle and plan.ctx.lead.touches_sent >= FRESH_ANGLE_UNOPENED:
        return _words(FRESH_HOOK, plan)
    if plan.trigger in HOOKS:
        return HOOKS[plan.trigger]
    if plan.trigger == "page_view" and plan.topic:
        return f"You have been reading about {plan.topic} on our site."
    return _words(STAGE_HOOKS[plan.stage], plan)


def _words(forms: tuple[str, str], plan: _Plan, **extra: str) -> str:
    """The wording with the lead's topic when there is one, else its topic-free form."""
    with_topic, without = forms
    return (with_topic if plan.topic else without).format(topic=plan.topic or "", **extra)


def _lead_in(plan: _Plan) -> str:
    who = _audience(plan)
    if plan.primary.asset_type == "case study" and plan.stage == "vendor":
        if who:
            return f"For {who}, here is what it looked like in practice:"
        return "What it looked like in practice:"
    return f"For {who}, one detail stands out:" if who else "One more detail worth knowing:"


def _audience(plan: _Plan) -> str | None:
    """Who the detail is for, from the record: 'a Head of Learning at Acme', 'a career
    changer', 'a team like Acme's', 'the team at Acme'."""
    if plan.role and plan.company and not personal.is_life_stage(plan.role):
        return f"{personal.role_phrase(plan.role)} at {plan.company}"
    if plan.role:
        return personal.role_phrase(plan.role)
    if plan.company and "enterprise" in plan.ctx.lead.segments:
        return f"a team like {plan.company}'s"
    if plan.company:
        return f"the team at {plan.company}"
    return None


def _cta_sentence(plan: _Plan) -> str:
    cta = plan.cta
    if "?" in cta or re.match(r"^(?:if|when)\b", cta, re.IGNORECASE):
        return _sentence(cta)
    if plan.stage == "decision":
        return _sentence(f"When you are ready, {lower_first(cta)}")
    if plan.stage == "vendor":
        who = plan.company or "you"
        return _sentence(
            f"If you would like to see how this could work for {who}, {lower_first(cta)}"
        )
    # Without a detail paragraph the company would go unmentioned: name it here.
    audience = _audience(plan) if plan.detail is None and plan.company else None
    useful = f"If it is useful for {audience}" if audience else "If it is useful"
    return _sentence(f"{useful}, {lower_first(cta)}")


def _subject(plan: _Plan) -> str:
    lead = plan.ctx.lead
    options: list[tuple[str, str]] = []
    if plan.fresh_angle:
        options.extend(FRESH_SUBJECTS)
        # Each new streak of silence gets the next angle.
        start = (lead.unopened_in_a_row // FRESH_ANGLE_UNOPENED - 1) % len(options)
    else:
        if plan.stage == "decision" and (
            "late:trial" in lead.segments or plan.trigger == "trial_signup"
        ):
            options.append(TRIAL_SUBJECT)
        if plan.stage == "decision" and _PRICE_WORDS.search(plan.primary.text):
            options.append(PRICING_SUBJECT)
        if plan.company and plan.stage in COMPANY_SUBJECTS and "enterprise" in lead.segments:
            # a buyer for a team: its own subject, and the asset's title, not learner angles
            options += [COMPANY_SUBJECTS[plan.stage], ("{title}", "{title}")]
        if "re-engage" in lead.segments:
            options.append(RE_ENGAGE_SUBJECT)
        if not options or plan.stage not in COMPANY_SUBJECTS or "enterprise" not in lead.segments:
            options.extend(SUBJECTS[plan.stage])
        # Vary by lead, deterministically, so a segment does not get one identical subject.
        start = lead.lead_id % len(options)
    title = lower_first(_short_title(plan.primary.title))
    subject = ""
    for offset in range(len(options)):
        body = _words(
            options[(start + offset) % len(options)], plan, title=title, company=plan.company or ""
        )
        subject = f"{plan.first}, {body}" if plan.first else body[:1].upper() + body[1:]
        if len(subject) <= 90:
            return subject
    return truncate(subject, 90)


def _short_title(title: str) -> str:
    """'Case study: how Northwind ...' -> 'How Northwind ...'; 'Pricing, ...: x' -> 'Pricing, ...'.

    A short label before the colon (Video, FAQ, Case study) is dropped; a long head is the
    title proper and its subtitle goes."""
    question = title.find("?")
    if 0 < question < 70:
        return title[: question + 1]  # a question title is its own hook
    head, _, tail = title.partition(":")
    if tail.strip() and len(head.split()) <= 2:
        tail = tail.strip()
        return truncate(tail[:1].upper() + tail[1:], 70)
    if tail.strip():
        return truncate(head.strip(), 70)
    return truncate(title.strip(), 70)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?" else f"{text}."


# --- video timing -------------------------------------------------------------------------------


def _seconds(line: str) -> int:
    return max(3, min(30, math.ceil(len(line.split()) / SPOKEN_WORDS_PER_SECOND) + 1))


def _shot(line: str, shot: str) -> Shot:
    return Shot(seconds=_seconds(line), line=line, shot=shot)


def _fit_duration(shots: list[Shot], plan: _Plan, low: int = 30, high: int = 60) -> list[Shot]:
    """Between `low` and `high` seconds: a second point when short, a shorter one when long."""
    total = sum(shot.seconds for shot in shots)
    if total < low and plan.detail is not None and plan.detail.kind == "sentence":
        extra = _shot(plan.detail.text, "Key line as on-screen text over the title card.")
        shots = [*shots[:3], extra, *shots[3:]]
        total += extra.seconds
    if total > high:
        shorter = min([plan.insight, *plan.spare], key=lambda fact: fact.words)
        point = shots[2]
        shots[2] = Shot(seconds=_seconds(shorter.text), line=shorter.text, shot=point.shot)
        total = sum(shot.seconds for shot in shots)
    if total < low:
        # Let the background breathe: hold the greeting and the title card a little longer.
        missing = low - total
        for index in (0, 2, 1):
            add = min(missing, 30 - shots[index].seconds)
            shots[index] = shots[index].model_copy(update={"seconds": shots[index].seconds + add})
            missing -= add
    return shots
