"""The evaluators every eval run applies, in report order."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from evals.evaluators.base import Evaluator, Verdict
from evals.evaluators.compliance import ComplianceEvaluator
from evals.evaluators.grounding import GroundingEvaluator
from evals.evaluators.judge import NO_JUDGE, JudgeEvaluator
from evals.evaluators.length import LengthEvaluator
from evals.evaluators.personalization import PersonalizationEvaluator
from evals.evaluators.safety import SafetyEvaluator
from evals.evaluators.stage_fit import StageFitEvaluator
from evals.evaluators.tone import ToneEvaluator
from evals.evaluators.trajectory import TrajectoryEvaluator


def default_evaluators(
    judge: BaseChatModel | None = None, *, judge_note: str = NO_JUDGE
) -> list[Evaluator]:
    return [
        TrajectoryEvaluator(),
        PersonalizationEvaluator(),
        StageFitEvaluator(),
        GroundingEvaluator(),
        ComplianceEvaluator(),
        SafetyEvaluator(),
        LengthEvaluator(),
        ToneEvaluator(),
        JudgeEvaluator(judge, note=judge_note),
    ]


__all__ = [
    "ComplianceEvaluator",
    "Evaluator",
    "GroundingEvaluator",
    "JudgeEvaluator",
    "LengthEvaluator",
    "PersonalizationEvaluator",
    "SafetyEvaluator",
    "StageFitEvaluator",
    "ToneEvaluator",
    "TrajectoryEvaluator",
    "Verdict",
    "default_evaluators",
]
