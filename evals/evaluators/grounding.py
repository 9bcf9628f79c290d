"""Grounding: every number, name, link and address traces to a retrieved source or the lead.

The guardrails' claim checks, applied claim by claim to the draft as written.
"""

from __future__ import annotations

from evals.evaluators.base import (
    Verdict,
    draft_text,
    failed,
    listed,
    no_draft_reason,
    passed,
    skipped,
)
from evals.execute import CaseRun
from tools.guardrails.claims import (
    emails_in,
    normalize_url,
    number_claims,
    sources_of,
    ungrounded_names,
    ungrounded_numbers,
    urls_in,
)


class GroundingEvaluator:
    name = "grounding"
    description = "every claim in the draft traces to a retrieved source or the lead record"

    def evaluate(self, run: CaseRun) -> Verdict:
        parts = draft_text(run)
        ctx = run.context()
        drafted = run.email or run.video
        if not parts or ctx is None or drafted is None:
            return skipped(no_draft_reason(run))
        if not ctx.snippets:
            return failed("the draft was written with no retrieved content to ground it")
        sources = sources_of(ctx)
        problems: list[str] = []
        claims = 0
        for field, text in parts.items():
            claims += len(number_claims(text)) + len(urls_in(text)) + len(emails_in(text))
            problems += [f"{field}: number {n!r}" for n in ungrounded_numbers(text, sources)]
            problems += [f"{field}: name {w!r}" for w in ungrounded_names(text, sources)]
            problems += [f"{field}: link {url}" for url in urls_in(text) if url not in sources.urls]
            problems += [
                f"{field}: address {e}" for e in emails_in(text) if e not in sources.emails
            ]
        links = [drafted.cta_url, *drafted.sources]
        claims += len(links)
        problems += [
            f"link {url} is not retrieved content"
            for url in links
            if normalize_url(url) not in sources.snippet_urls
        ]
        score = 1 - len(problems) / max(claims + len(problems), 1)
        if problems:
            return failed("not in the sources: " + listed(problems), score=score)
        return passed(score, claims=claims)
