"""Variants to test: written for a draft (offline from the draft and its snippets, or by a model)
and applied to any lead's draft.

A variant is a template, since an arm is sent to many leads: `{first_name}`, `{company}`,
`{topic}` (the short title of the asset the draft cites) and `{cta}` (that asset's own call to
action) are filled in per lead, so a variant never carries one lead's name to another. The
offline writer only recombines the draft's own wording and its snippets' titles and calls to
action, so every variant stays grounded in the content library.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from prompts import render
from tools.drafting.personal import company, first_name
from tools.drafting.structured import call_structured
from tools.schemas import DecisionContext, EmailDraft, Snippet

Dimension = Literal["subject", "cta", "format", "send_hour_band"]
DIMENSIONS: tuple[str, ...] = ("subject", "cta", "format", "send_hour_band")
TEXT_DIMENSIONS = ("subject", "cta")
FORMAT_VALUES = ("text", "video")
PLACEHOLDERS = frozenset({"first_name", "company", "topic", "cta"})
LIMITS = {"subject": 90, "cta": 60}
MIN_VARIANTS, MAX_VARIANTS = 2, 4
_HOUR_BAND = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class VariantError(ValueError):
    """A variant that cannot be tested; the message names the value and what to change."""


class VariantSet(BaseModel):
    """2-4 alternative subject lines or calls to action for one nurture email, as templates."""

    variants: list[str] = Field(
        min_length=MIN_VARIANTS,
        max_length=MAX_VARIANTS,
        description="templates using only {first_name}, {company}, {topic}, {cta}",
    )


def validate_variant(dimension: str, value: str) -> str:
    """The variant, trimmed, or a VariantError saying what is wrong with it."""
    if dimension not in DIMENSIONS:
        raise VariantError(f"dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    text = " ".join(value.split())
    if not text:
        raise VariantError(f"{dimension} variant: empty; give the text to test")
    if dimension == "format" and text not in FORMAT_VALUES:
        raise VariantError(f"format variant {text!r}: use 'text' or 'video'")
    if dimension == "send_hour_band":
        match = _HOUR_BAND.match(text)
        if not match or not 0 <= int(match[1]) < int(match[2]) <= 24:
            raise VariantError(
                f"send_hour_band variant {text!r}: use START-END hours, e.g. 9-11 (0-24)"
            )
    if dimension in TEXT_DIMENSIONS:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            raise VariantError(f"{dimension} variant {text!r}: {exc}") from None
        unknown = names - PLACEHOLDERS
        if unknown:
            raise VariantError(
                f"{dimension} variant {text!r}: unknown placeholder(s) "
                f"{', '.join(sorted(unknown))}; use {{first_name}}, {{company}}, {{topic}}, {{cta}}"
            )
        sample = fill(text, first="Alexandra", org="Example Company", topic="x" * 40, cta="x" * 20)
        if len(sample) > LIMITS[dimension]:
            raise VariantError(
                f"{dimension} variant {text!r}: too long once filled in "
                f"(keep it under {LIMITS[dimension]} characters)"
            )
    return text


def fill(template: str, *, first: str | None, org: str | None, topic: str, cta: str) -> str:
    """The template for one lead; a missing name drops its clause instead of leaving a gap."""
    text = template
    if not first:
        text = re.sub(r"\{first_name\},?\s*", "", text)
    values = {"first_name": first or "", "company": org or "your team", "topic": topic, "cta": cta}
    filled = " ".join(text.format_map(values).split())
    return filled[:1].upper() + filled[1:]


def short_topic(snippet: Snippet | None, draft: EmailDraft) -> str:
    """The cited asset's title without its label ('Case study: x' -> 'x'), or the subject."""
    title = snippet.title if snippet else draft.subject
    head, _, tail = title.partition(":")
    topic = tail.strip() if tail.strip() and len(head.split()) <= 2 else head.strip()
    return topic[:70]


def primary_snippet(draft: EmailDraft, snippets: list[Snippet]) -> Snippet | None:
    """The snippet the draft's call to action points at, else the first one it cites."""
    for snippet in snippets:
        if snippet.url == draft.cta_url:
            return snippet
    cited = [s for s in snippets if s.url in draft.sources] or snippets
    return cited[0] if cited else None


def apply_variant(
    draft: EmailDraft, ctx: DecisionContext, dimension: str, value: str
) -> EmailDraft:
    """The draft with the variant's subject or call to action filled in for this lead."""
    if dimension not in TEXT_DIMENSIONS:
        return draft
    snippet = primary_snippet(draft, ctx.snippets)
    cta = snippet.cta if snippet and snippet.cta else draft.cta_text
    if len(cta) > LIMITS["cta"]:
        cta = draft.cta_text
    text = fill(
        value,
        first=first_name(ctx.lead),
        org=company(ctx.lead),
        topic=short_topic(snippet, draft),
        cta=cta,
    )
    if len(text) > LIMITS[dimension]:
        return draft  # a long name or title: the draft's own wording beats a cut-off one
    return draft.model_copy(update={"subject" if dimension == "subject" else "cta_text": text})


def offline_variants(
    draft: EmailDraft, ctx: DecisionContext, dimension: str, limit: int = MAX_VARIANTS
) -> list[str]:
    """2-4 templates from the draft itself and its snippets, the draft's own wording first."""
    if dimension not in TEXT_DIMENSIONS:
        return list(FORMAT_VALUES) if dimension == "format" else ["9-11", "13-15"]
    snippet = primary_snippet(draft, ctx.snippets)
    topic = short_topic(snippet, draft)
    name, org = first_name(ctx.lead), company(ctx.lead)
    if dimension == "subject":
        own = _abstract(draft.subject, name, org, topic)
        candidates = [own, "{topic}", "{first_name}, {topic}", "For {company}: {topic}"]
        questions = [_question(s.text) for s in ctx.snippets]
        candidates += [q for q in questions if q]
    else:
        own = _abstract(draft.cta_text, name, org, topic)
        candidates = [own, "{cta}", "Reply with your questions", "Tell me what you are weighing up"]
    return _distinct(candidates, dimension, limit)


def write_variants(
    model: BaseChatModel | None,
    draft: EmailDraft,
    ctx: DecisionContext,
    dimension: str,
    *,
    prompts_dir: str | None = None,
) -> list[str]:
    """2-4 variants: from `model` through the `write_variants` prompt (structured output), or
    offline when there is no model or its answer holds fewer than two usable variants."""
    if model is None or dimension not in TEXT_DIMENSIONS:
        return offline_variants(draft, ctx, dimension)
    prompt = render(
        "write_variants",
        prompts_dir=prompts_dir,
        dimension=dimension,
        draft=draft.model_dump_json(),
        context=ctx.model_copy(update={"action": None}).model_dump_json(exclude_none=True),
    )
    answer = call_structured(model, VariantSet, prompt)
    if answer.value is not None:
        written = _distinct(answer.value.variants, dimension, MAX_VARIANTS)
        if len(written) >= MIN_VARIANTS:
            return written
    return offline_variants(draft, ctx, dimension)


def _abstract(text: str, name: str | None, org: str | None, topic: str) -> str:
    """The lead's own name, company and the topic replaced by placeholders."""
    # Literal braces would read as placeholders.
    text = text.replace("{", "(").replace("}", ")")
    for value, placeholder in ((topic, "{topic}"), (org, "{company}"), (name, "{first_name}")):
        if value:
            pattern = re.compile(re.escape(value), re.IGNORECASE)
            text = pattern.sub(placeholder, text)
    return text


def _question(text: str) -> str | None:
    """The first short question the content itself asks (a problem-hinting subject)."""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        sentence = sentence.strip().strip("#*- ")
        if sentence.endswith("?") and 12 <= len(sentence) <= 80 and not re.search(r"\d", sentence):
            return sentence.replace("{", "(").replace("}", ")")
    return None


def _distinct(candidates: list[str], dimension: str, limit: int) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for candidate in candidates:
        try:
            value = validate_variant(dimension, candidate)
        except VariantError:
            continue
        if value.lower() not in seen:
            seen.add(value.lower())
            kept.append(value)
    return kept[:limit]
