"""`nurture report experiments`: every experiment's arms and verdict, and nurture's uplift over
the holdout cohort.

Uplift: leads are split by `in_holdout` (the same hash the agent uses); a lead converted when
it reached SQL (an `sql_at`, or SQL / customer now) or has a won outcome. The figure is the
difference of the two conversion rates with Newcombe's 95 % interval (Wilson per cohort), over
the leads created in the period (all leads when `since` is None).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from store.models import Experiment, Lead, Outcome, OutcomeKind
from tools.bandit.experiments import OBJECTIVE_EVENTS, arms_of
from tools.bandit.holdout import in_holdout, uplift, wilson


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


def holdout_report(
    session: Session, *, share: float, salt: str, since: datetime | None = None
) -> dict[str, Any]:
    """Conversion to SQL or won, nurtured leads against the holdout, with the uplift's CI."""
    won = select(Outcome.lead_id).where(Outcome.kind == OutcomeKind.won)
    converted = or_(
        col(Lead.sql_at).is_not(None),
        col(Lead.lifecycle_stage).in_(["sql", "customer"]),
        col(Lead.id).in_(won),
    )
    stmt = select(Lead.id, converted)
    if since is not None:
        stmt = stmt.where(Lead.created_at >= since)
    counts = {"nurtured": [0, 0], "holdout": [0, 0]}
    for lead_id, did_convert in session.exec(stmt):
        held = in_holdout(int(lead_id or 0), share=share, salt=salt)
        cohort = counts["holdout" if held else "nurtured"]
        cohort[0] += 1
        cohort[1] += int(bool(did_convert))
    result = uplift(counts["nurtured"][0], counts["nurtured"][1], *counts["holdout"]).as_dict()
    return {
        "holdout_share": share,
        "conversion": "reached SQL or won",
        "since": since.isoformat() if since else None,
        **result,
    }


def overview(session: Session, *, share: float, salt: str) -> dict[str, Any]:
    """Every experiment and the holdout's uplift: what the CLI and the chat report."""
    return {
        "experiments": experiments_report(session),
        "holdout": holdout_report(session, share=share, salt=salt),
    }
