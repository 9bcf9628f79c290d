"""Errors raised by lead scoring: each message names the column or file and what to do."""


class ScoringError(ValueError):
    """Base class: any input or model problem a user can fix without reading a traceback."""


class DataError(ScoringError):
    """The lead table is unusable as given (empty, wrong separator, no usable columns)."""


class TargetError(ScoringError):
    """The target column is missing or is not a two-valued outcome."""


class RulesError(ScoringError):
    """A rules YAML file is malformed."""


class ModelVersionError(ScoringError):
    """A saved model cannot be loaded by this version of nurture or scikit-learn."""
