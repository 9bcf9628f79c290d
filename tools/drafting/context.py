"""The decision context as a prompt carries it: lead text fenced, snippets trimmed, scanned."""

from __future__ import annotations

from knowledge.tokens import count_tokens, encoding
from tools.guardrails.injection import InjectionSignal, injection_signals, sanitize_lead_text
from tools.schemas import DecisionContext

# Snippet text a prompt carries at most, shared evenly: with the instructions and the lead
# record this keeps a draft prompt under 2,000 tokens. Retrieval already budgets its snippets
# (600 tokens in tools/content.py), so this only trims contexts built by other means.
SNIPPET_TOKENS = 700


def prompt_context(ctx: DecisionContext, snippet_tokens: int = SNIPPET_TOKENS) -> DecisionContext:
    """The context as a prompt may carry it: lead text fenced, long snippets trimmed."""
    lead = ctx.lead
    if lead.notes:
        lead = lead.model_copy(update={"notes": sanitize_lead_text(lead.notes)})
    share = snippet_tokens // max(1, len(ctx.snippets))
    snippets = [
        snippet.model_copy(update={"text": trim_tokens(snippet.text, share)})
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


def trim_tokens(text: str, budget: int) -> str:
    """At most `budget` tokens of `text`, cut after a paragraph or a sentence when possible."""
    if count_tokens(text) <= budget:
        return text
    tokens = encoding().encode_ordinary(text)
    cut = encoding().decode(tokens[: max(1, budget - 2)])
    for mark in ("\n\n", "\n", ". "):
        end = cut.rfind(mark)
        if end > len(cut) // 2:
            return cut[: end + (1 if mark == ". " else 0)].rstrip() + " …"
    return cut.rstrip() + " …"
