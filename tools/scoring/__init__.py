"""Lead scoring: a predictive scorer, a rules baseline, a leakage guard and model versions."""

from tools.scoring.errors import (
    DataError,
    ModelVersionError,
    RulesError,
    ScoringError,
    TargetError,
)

__all__ = ["DataError", "ModelVersionError", "RulesError", "ScoringError", "TargetError"]
