"""Personalization: the draft uses the lead's name, company, role and what they did."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from evals.cases import Mention
from evals.evaluators.base import Verdict, draft_text, failed, no_draft_reason, passed, skipped
from evals.execute import CaseRun
from tools.guardrails import injection_signals

# Words that show a draft refers to what the lead did (the trigger event).
TRIGGER_EVIDENCE: dict[str, tuple[str, ...]] = {
    "pricing_page_view": ("fee", "fees", "price", "pricing", "cost", "costs", "instalment"),
    "trial_signup": ("trial",),
    "product_milestone": ("trial", "progress", "milestone"),
    "webinar_attended": ("webinar",),
    "video_watched": ("video", "watching", "watched"),
    "content_download": ("download", "downloading", "downloaded"),
    "email_click": ("last email", "reading"),
    "form_submit": ("getting in touch", "your question", "your message", "you asked"),
}


class PersonalizationEvaluator:
    name = "personalization"
    description = "the draft uses the lead's first name, company, role and trigger"

    def evaluate(self, run: CaseRun) -> Verdict:
        parts = draft_text(run)
        if not parts:
            return skipped(no_draft_reason(run))
        wanted = expected_mentions(run)
        if not wanted:
            return skipped("nothing to personalise with: the lead record is empty")
        text = "\n".join(parts.values())
        missing = [label for label, check in wanted.items() if not check(text)]
        score = 1 - len(missing) / len(wanted)
        if missing:
            named = ", ".join(_describe(run, label) for label in missing)
            return failed(
                f"the draft does not use the lead's {named}",
                score=score,
                missing=missing,
            )
        return passed(score, used=list(wanted))


def expected_mentions(run: CaseRun) -> dict[str, Callable[[str], bool]]:
    """label -> a check on the draft text, for each detail the case asks for."""
    case = run.case
    lead = case.lead
    asked: list[Mention] = (
        list(case.expect.mention)
        if case.expect.mention is not None
        else ["name", "company", "role", "trigger"]
    )
    checks: dict[str, Callable[[str], bool]] = {}
    for label, value in (("name", lead.first_name), ("company", lead.company), ("role", lead.role)):
        if label in asked and value and _usable(value):
            checks[label] = partial(_mentions, value=value)
    if "trigger" in asked and case.trigger in TRIGGER_EVIDENCE:
        checks["trigger"] = partial(_any_word, words=TRIGGER_EVIDENCE[case.trigger])
    return checks


def _usable(value: str | None) -> bool:
    """A field worth greeting with: present, and not an instruction in disguise."""
    return bool(value and value.strip() and not injection_signals(value))


def _any_word(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) for word in words)


def _mentions(text: str, value: str | None) -> bool:
    """Whole words, any case, any script ('Zoë', 'Nguyễn', 'Li' all count)."""
    if not value:
        return False
    words = r"\s+".join(re.escape(word) for word in value.split())
    return re.search(rf"(?<!\w){words}(?!\w)", text, re.IGNORECASE) is not None


def _describe(run: CaseRun, label: str) -> str:
    lead = run.case.lead
    value = {
        "name": lead.first_name,
        "company": lead.company,
        "role": lead.role,
        "trigger": run.case.trigger,
    }.get(label)
    return f"{label} ({value})" if value else label
