"""The decision context as a prompt carries it: lead text fenced, snippets trimmed, scanned."""

from __future__ import annotations

from tools.guardrails.injection import InjectionSignal, injection_signals, sanitize_lead_text
from tools.schemas import DecisionContext

SNIPPET_CHARS = 1600  # about 400 tokens a snippet keeps a draft prompt under 2,000 tokens


def prompt_context(ctx: DecisionContext, snippet_chars: int = SNIPPET_CHARS) -> DecisionContext:
    """The context as a prompt may carry it: lead text fenced, long snippets trimmed."""
    lead = ctx.lead
    if lead.notes:
        lead = lead.model_copy(update={"notes": sanitize_lead_text(lead.notes)})
    snippets = [
        snippet.model_copy(update={"text": _trim(snippet.text, snippet_chars)})
        for snippet in ctx.snippets
    ]
    return ctx.model_copy(update={"lead": lead, "snippets": snippets})


def lead_injection_signals(ctx: DecisionContext) -> list[InjectionSignal]:
    """Injection attempts in any lead-provided text of the context (notes and record fields)."""
    lead = ctx.lead
    texts = [lead.notes, lead.first_name, lead.last_name, lead.company, lead.role]
    signals: list[InjectionSignal] = []
    for text in texts:
        for signal in injection_signals(text):
            if signal not in signals:
                signals.append(signal)
    return signals


def _trim(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a line or sentence end where possible."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in ("\n\n", "\n", ". "):
        end = cut.rfind(mark)
        if end > limit // 2:
            return cut[: end + (1 if mark == ". " else 0)].rstrip() + " …"
    return cut.rstrip() + " …"
