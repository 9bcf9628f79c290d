"""Length and tokens: the draft's shape within the shipped limits, the pass within its tokens."""

from __future__ import annotations

from evals.evaluators.base import Verdict, failed, guardrails, issues_with, listed, passed
from evals.execute import CaseRun

SHAPE = frozenset(
    (
        "subject_empty", "subject_too_long", "preview_too_long", "cta_too_long",
        "paragraph_count", "too_long", "paragraph_too_long", "too_many_tokens",
        "video_length", "shot_too_fast",
    )
)  # fmt: skip
# Model tokens one pass may use (a decision and a draft fit in about a third of it).
DEFAULT_MAX_TOKENS = 8000


class LengthEvaluator:
    name = "length"
    description = "subject, paragraphs, words, tokens and video seconds within limits"

    def evaluate(self, run: CaseRun) -> Verdict:
        problems = issues_with(guardrails(run), SHAPE)
        allowance = run.case.expect.max_tokens or DEFAULT_MAX_TOKENS
        if run.tokens > allowance:
            problems.append(f"the pass used {run.tokens:,} model tokens; allowed {allowance:,}")
        if problems:
            return failed(listed(problems), tokens=run.tokens, words=_words(run))
        return passed(tokens=run.tokens, words=_words(run))


def _words(run: CaseRun) -> int | None:
    if run.email is not None:
        return sum(len(p.split()) for p in run.email.paragraphs)
    if run.video is not None:
        return sum(len(shot.line.split()) for shot in run.video.shots)
    return None
