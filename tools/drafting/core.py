"""Draft an email or a video script with a chat model, recording prompt, model and tokens.

The context goes into the versioned prompt as JSON inside `<context>`, with lead-provided text
fenced and long snippets trimmed. A model that answers badly twice falls back to the offline
template (grounded in the same context), and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Literal, TypeVar

from langchain_core.language_models import BaseChatModel

from prompts import render
from tools.drafting.context import lead_injection_signals, prompt_context
from tools.drafting.structured import call_structured
from tools.drafting.templates import (
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    template_email,
    template_video_script,
)
from tools.guardrails.injection import InjectionSignal
from tools.schemas import DecisionContext, EmailDraft, VideoScript

D = TypeVar("D", EmailDraft, VideoScript)
OFFLINE_MODEL = "offline-templates"


class DraftError(RuntimeError):
    """The model gave no usable draft and the template fallback was turned off."""


@dataclass
class DraftResult(Generic[D]):
    """A draft plus everything to record with it: prompt version, model, tokens, attempts."""

    draft: D
    kind: Literal["email", "video_script"]
    source: Literal["model", "template"]
    prompt_id: str
    prompt_version: str
    model_name: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    injection: list[InjectionSignal] = field(default_factory=list)

    @property
    def prompt_ref(self) -> str:
        """`draft_email@1`: what `Draft.prompt_version` stores."""
        return f"{self.prompt_id}@{self.prompt_version}"

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def draft_email(
    model: BaseChatModel | None,
    ctx: DecisionContext,
    *,
    prompts_dir: Path | str | None = None,
    fallback: bool = True,
) -> DraftResult[EmailDraft]:
    """An email for `ctx.lead`: from `model` through the `draft_email` prompt, or from the
    offline template when `model` is None (or, with `fallback`, when the model fails twice)."""
    return _draft(model, ctx, "email", EmailDraft, prompts_dir, fallback)


def draft_video_script(
    model: BaseChatModel | None,
    ctx: DecisionContext,
    *,
    prompts_dir: Path | str | None = None,
    fallback: bool = True,
) -> DraftResult[VideoScript]:
    """A 30-60 s video script for `ctx.lead`, the same way as `draft_email`."""
    return _draft(model, ctx, "video_script", VideoScript, prompts_dir, fallback)


def _draft(
    model: BaseChatModel | None,
    ctx: DecisionContext,
    kind: Literal["email", "video_script"],
    schema: type[D],
    prompts_dir: Path | str | None,
    fallback: bool,
) -> DraftResult[D]:
    signals = lead_injection_signals(ctx)

    def offline() -> D:
        draft = template_email(ctx) if kind == "email" else template_video_script(ctx)
        assert isinstance(draft, schema)
        return draft

    if model is None:
        return DraftResult(
            draft=offline(),
            kind=kind,
            source="template",
            prompt_id=TEMPLATE_ID,
            prompt_version=TEMPLATE_VERSION,
            model_name=OFFLINE_MODEL,
            injection=signals,
        )
    prompt = render(
        "draft_email" if kind == "email" else "draft_video_script",
        prompts_dir=prompts_dir,
        context=prompt_context(ctx).model_dump_json(exclude_none=True),
    )
    answer = call_structured(model, schema, prompt)
    if answer.value is None and not fallback:
        raise DraftError(
            f"lead {ctx.lead.lead_id}: {answer.model_name} gave no usable {schema.__name__} "
            f"after {answer.attempts} attempt(s): {'; '.join(answer.errors)}"
        )
    return DraftResult(
        draft=answer.value if answer.value is not None else offline(),
        kind=kind,
        source="model" if answer.value is not None else "template",
        prompt_id=prompt.id,
        prompt_version=prompt.version,
        model_name=answer.model_name,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        attempts=answer.attempts,
        errors=answer.errors,
        injection=signals,
    )
