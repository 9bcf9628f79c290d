"""LLM as judge: a real model grades each draft on a rubric and against the baseline's draft.

The pairwise question is asked in both orders; a draft loses only when it loses both.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from evals.evaluators.base import Verdict, failed, no_draft_reason, passed, skipped
from evals.execute import CaseRun
from prompts import render
from tools.drafting.structured import call_structured

JUDGE_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
CRITERIA = ("relevance", "personalization", "clarity", "call_to_action", "tone")
NO_JUDGE = "no real model is configured; the judge runs with --judge or a real --model"


class RubricScores(BaseModel):
    """Scores from 1 (poor) to 5 (excellent) on each criterion of the rubric."""

    relevance: int = Field(ge=1, le=5, description="fits the lead's situation, stage, trigger")
    personalization: int = Field(ge=1, le=5, description="speaks to this person")
    clarity: int = Field(ge=1, le=5, description="short, plain, insight first")
    call_to_action: int = Field(ge=1, le=5, description="one next step that fits the stage")
    tone: int = Field(ge=1, le=5, description="calm and helpful, no hype or pressure")
    reason: str = Field(description="the main weakness in one or two sentences, or none")


class PairwiseChoice(BaseModel):
    """Which of the two messages is better for this lead."""

    better: Literal["A", "B", "tie"]
    reason: str = Field(description="one or two sentences")


class JudgeEvaluator:
    name = "judge"
    description = "a real model grades the draft on a rubric and against the baseline's draft"

    def __init__(
        self,
        model: BaseChatModel | None,
        *,
        note: str = NO_JUDGE,
        prompts_dir: Path = JUDGE_PROMPTS,
        pass_mean: float = 3.5,
        pass_min: int = 3,
    ) -> None:
        self.model = model
        self.note = note
        self.prompts_dir = prompts_dir
        self.pass_mean = pass_mean
        self.pass_min = pass_min
        self.prompt_tokens = self.completion_tokens = 0  # every judge call of the run
        self.calls = 0
        self._lock = threading.Lock()

    def evaluate(self, run: CaseRun) -> Verdict:
        if self.model is None:
            return skipped(self.note)
        message = _message(run.draft)
        if message is None:
            return skipped(no_draft_reason(run))
        base = _context(run)
        rubric = self._ask(RubricScores, "judge_rubric", {**base, "message": message})
        if isinstance(rubric, str):
            return skipped(f"the judge gave no usable grade: {rubric}")
        scores = {name: int(getattr(rubric, name)) for name in CRITERIA}
        mean = sum(scores.values()) / len(scores)
        details: dict[str, Any] = {"scores": scores, "mean": round(mean, 2), "why": rubric.reason}
        problems = []
        if mean < self.pass_mean or min(scores.values()) < self.pass_min:
            weakest = min(scores, key=lambda name: scores[name])
            problems.append(
                f"rubric mean {mean:.1f} (weakest: {weakest} {scores[weakest]}/5): {rubric.reason}"
            )
        baseline = run.judge.get("baseline_message")
        if isinstance(baseline, str) and baseline.strip() and baseline != message:
            verdict, why = self._compare(base, message, baseline)
            details["pairwise"] = {"vs_baseline": verdict, "why": why}
            if verdict == "worse":
                problems.append(f"the judge prefers the baseline's draft in both orders: {why}")
        score = (mean - 1) / 4
        if problems:
            return failed("; ".join(problems), score=score, **details)
        return passed(score, **details)

    def _compare(self, base: dict[str, Any], mine: str, theirs: str) -> tuple[str, str]:
        """better / worse / tie: a side wins only when it wins in both orders."""
        first = self._ask(PairwiseChoice, "judge_pairwise", {**base, "A": mine, "B": theirs})
        second = self._ask(PairwiseChoice, "judge_pairwise", {**base, "A": theirs, "B": mine})
        for answer in (first, second):
            if isinstance(answer, str):
                return "tie", f"the judge gave no usable comparison: {answer}"
        if first.better == "A" and second.better == "B":
            return "better", first.reason
        if first.better == "B" and second.better == "A":
            return "worse", first.reason
        return "tie", f"{first.better} then {second.better} with the order swapped"

    def _ask(self, schema: type[BaseModel], prompt: str, context: dict[str, Any]) -> Any:
        assert self.model is not None
        rendered = render(
            prompt,
            prompts_dir=self.prompts_dir,
            context=json.dumps(context, ensure_ascii=False, default=str),
        )
        answer = call_structured(self.model, schema, rendered)
        with self._lock:
            self.calls += answer.attempts
            self.prompt_tokens += answer.prompt_tokens
            self.completion_tokens += answer.completion_tokens
        if answer.value is None:
            return "; ".join(answer.errors) or "no answer"
        return answer.value


def _context(run: CaseRun) -> dict[str, Any]:
    """The lead and the touch, without the lead's free text (the judge takes no orders)."""
    brief = run.brief
    action = run.action
    lead = brief.model_dump(mode="json", exclude={"notes"}, exclude_none=True) if brief else {}
    touch = {"stage": action.stage, "reason": action.reason} if action else {}
    return {"lead": lead, "touch": touch}


def _message(draft: dict[str, Any] | None) -> str | None:
    if not draft:
        return None
    content = draft.get("content") or {}
    return message_of(content.get("subject") or content.get("title"), draft.get("body"))


def message_of(subject: str | None, body: str | None) -> str | None:
    """A draft as the judge reads it: the subject line, then the message as sent."""
    return f"Subject: {subject or ''}\n\n{body}" if body else None
