"""What every evaluator is: a name, a question it asks of one case run, and a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from evals.execute import CaseRun
from tools.guardrails import GuardrailReport, check_email, check_video_script

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Verdict:
    """pass / fail / skip, why (always said on a fail or a skip), and a 0-1 score."""

    status: Status
    reason: str = ""
    score: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "score": self.score,
            "details": self.details,
        }


def passed(score: float = 1.0, reason: str = "", **details: Any) -> Verdict:
    return Verdict("pass", reason, round(score, 4), details)


def failed(reason: str, score: float = 0.0, **details: Any) -> Verdict:
    return Verdict("fail", reason, round(score, 4), details)


def skipped(reason: str) -> Verdict:
    return Verdict("skip", reason)


class Evaluator(Protocol):
    """One question asked of every case run; `name` is what reports and gates call it."""

    name: str
    description: str

    def evaluate(self, run: CaseRun) -> Verdict: ...


def draft_text(run: CaseRun) -> dict[str, str]:
    """The parts of the draft the model wrote, by field (the renderer's greeting, signature
    and footer are not the model's words)."""
    email, video = run.email, run.video
    if email is not None:
        return {
            "subject": email.subject,
            "preview": email.preview,
            "paragraphs": "\n\n".join(email.paragraphs),
            "cta_text": email.cta_text,
        }
    if video is not None:
        return {
            "title": video.title,
            "shots.line": "\n".join(shot.line for shot in video.shots),
            "cta_text": video.cta_text,
        }
    return {}


def guardrails(run: CaseRun, *, other_leads: bool = False) -> GuardrailReport | None:
    """The shipped guardrails on the draft as written (None when there is no draft)."""
    ctx = run.context()
    if ctx is None:
        return None
    others = run.other_leads if other_leads else ()
    if run.email is not None:
        return check_email(run.email, ctx, other_leads=others)
    if run.video is not None:
        return check_video_script(run.video, ctx, other_leads=others)
    return None


def issues_with(report: GuardrailReport | None, codes: frozenset[str]) -> list[str]:
    """The findings of these kinds, as 'field: message' lines."""
    if report is None:
        return []
    return [
        f"{issue.field or 'draft'}: {issue.message}"
        for issue in report.issues
        if issue.code in codes
    ]


def no_draft_reason(run: CaseRun) -> str:
    if run.error:
        return f"no draft: the pass failed ({run.error})"
    action = run.action
    return f"no draft: the agent chose {action.action if action else 'nothing'}"


def listed(items: list[str], limit: int = 4) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
