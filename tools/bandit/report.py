"""`nurture report experiments`: every experiment's arms and verdict, and nurture's uplift over
the holdout cohort (`tools.bandit.cohorts`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from store.models import Experiment
from tools.bandit.cohorts import holdout_report
from tools.bandit.experiments import OBJECTIVE_EVENTS, arms_of
from tools.bandit.holdout import wilson

__all__ = ["experiment_view", "experiments_report", "holdout_report", "overview"]


def experiments_report(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Every experiment (or those with `status`), newest first, with its arms. JSON-ready."""
    stmt = select(Experiment).order_by(col(Experiment.id).desc())
    if status:
        stmt = stmt.where(Experiment.status == status)
    return [experiment_view(session, experiment) for experiment in session.exec(stmt)]


def experiment_view(session: Session, experiment: Experiment) -> dict[str, Any]:
    assert experiment.id is not None
    arms = []
    for arm in arms_of(session, experiment.id):
        low, high = wilson(arm.successes, arm.trials)
        arms.append(
            {
                "arm_id": arm.id,
                "value": arm.value,
                "source": arm.source,
                "status": arm.status,
                "control": arm.is_control,
                "trials": arm.trials,
                "successes": arm.successes,
                "rate": round(arm.successes / arm.trials, 4) if arm.trials else None,
                "rate_ci": [round(low, 4), round(high, 4)],
                "p_best": arm.p_best,
                "round_added": arm.round_added,
                "won_rounds": arm.won_rounds,
            }
        )
    return {
        "id": experiment.id,
        "name": experiment.name,
        "segment": experiment.segment,
        "dimension": experiment.dimension,
        "objective": experiment.objective,
        "objective_events": sorted(OBJECTIVE_EVENTS[experiment.objective]),
        "status": experiment.status,
        "round": experiment.round,
        "threshold": experiment.threshold,
        "min_trials": experiment.min_trials,
        "floor": experiment.floor,
        "sends": sum(a["trials"] for a in arms),
        "successes": sum(a["successes"] for a in arms),
        "verdict": experiment.last_verdict or None,
        "arms": arms,
    }


def overview(session: Session, *, share: float, salt: str) -> dict[str, Any]:
    """Every experiment and the holdout's uplift: what the CLI and the chat report."""
    return {
        "experiments": experiments_report(session),
        "holdout": holdout_report(session, share=share, salt=salt),
    }
