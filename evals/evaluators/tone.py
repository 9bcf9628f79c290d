"""Tone: no banned phrase (false urgency, hype, spam words), no shouting, no fake replies."""

from __future__ import annotations

from evals.evaluators.base import (
    Verdict,
    failed,
    guardrails,
    issues_with,
    listed,
    no_draft_reason,
    passed,
    skipped,
)
from evals.execute import CaseRun

TONE = frozenset(("banned_phrase", "hype", "fake_reply"))


class ToneEvaluator:
    name = "tone"
    description = "no banned phrase, no more than one exclamation mark, no fake RE:/FW:"

    def evaluate(self, run: CaseRun) -> Verdict:
        report = guardrails(run)
        if report is None:
            return skipped(no_draft_reason(run))
        problems = issues_with(report, TONE)
        if problems:
            return failed(listed(problems))
        return passed()
