"""Experiments in the store: create them, pick a variant for a touch, reward it from engagement,
declare a winner, promote it to control and start the next challengers.

Every function takes `session` keyword-only and never commits (like `store.crud`). A variant
is assigned when the draft is made with it; the assignment is linked to its touch when the
touch is queued, and the arm's trial is counted when that touch is sent (`tools.bandit.trials`):
a draft held by the guardrails, rejected or cancelled at send time is no trial. A success is
the first event of the experiment's objective on a sent touch (opens are never an objective:
an open says little about intent and image blocking makes it unreliable). Counters move by
single UPDATE statements, so concurrent workers never lose a send or a reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlmodel import Session, col, select

from store.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    OutboxMessage,
    utcnow,
)
from tools.bandit.thompson import (
    DEFAULT_FLOOR,
    DEFAULT_MIN_TRIALS,
    DEFAULT_THRESHOLD,
    ArmStats,
    Verdict,
    choose_arm,
    judge,
)
from tools.bandit.variants import DIMENSIONS, MAX_VARIANTS, VariantError, validate_variant

# What counts as a success for each objective the team may pick.
OBJECTIVE_EVENTS: dict[str, frozenset[str]] = {
    "reply": frozenset({"email_reply"}),
    "click": frozenset({"email_click"}),
    "meeting": frozenset({"demo_request", "meeting_booked"}),
}
REWARD_EVENTS = frozenset().union(*OBJECTIVE_EVENTS.values())
STATUSES = ("running", "paused", "done")


class ExperimentError(ValueError):
    """An experiment request that cannot be done as asked; the message says what to change."""


@dataclass(frozen=True)
class Choice:
    """The variant a touch gets, and the assignment that will collect its reward."""

    experiment_id: int
    arm_id: int
    assignment_id: int
    dimension: str
    value: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "arm_id": self.arm_id,
            "assignment_id": self.assignment_id,
            "dimension": self.dimension,
            "value": self.value,
        }


def create_experiment(
    session: Session,
    *,
    name: str,
    segment: str,
    dimension: str,
    objective: str,
    variants: Iterable[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    min_trials: int = DEFAULT_MIN_TRIALS,
    floor: float = DEFAULT_FLOOR,
    now: datetime | None = None,
) -> Experiment:
    """A running experiment; the first variant is the control, the others its challengers."""
    if objective not in OBJECTIVE_EVENTS:
        hint = " (opens are a vanity metric)" if objective == "open" else ""
        raise ExperimentError(
            f"objective {objective!r}{hint}: use one of {', '.join(OBJECTIVE_EVENTS)}"
        )
    if dimension not in DIMENSIONS:
        raise ExperimentError(f"dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    if not name.strip() or not segment.strip():
        raise ExperimentError("an experiment needs a name and a segment (or '*' for every lead)")
    if not 0.5 < threshold < 1:
        raise ExperimentError(f"threshold {threshold}: use a P(best) between 0.5 and 1, e.g. 0.95")
    if min_trials < 1:
        raise ExperimentError(f"min_trials {min_trials}: use at least 1 send per arm")
    if not 0 <= floor * MAX_VARIANTS <= 1:
        raise ExperimentError(f"floor {floor}: use a share between 0 and {1 / MAX_VARIANTS}")
    if session.exec(select(Experiment).where(Experiment.name == name)).first() is not None:
        raise ExperimentError(f"an experiment named {name!r} exists; pick another name")
    if running_experiment(session, segment=segment, dimension=dimension, exact=True):
        raise ExperimentError(
            f"segment {segment!r} already runs a {dimension} experiment; stop it first"
        )
    now = now or utcnow()
    experiment = Experiment(
        name=name.strip(),
        segment=segment.strip(),
        dimension=dimension,
        objective=objective,
        threshold=threshold,
        min_trials=min_trials,
        floor=floor,
        created_at=now,
        updated_at=now,
    )
    session.add(experiment)
    session.flush()
    for value in variants:
        add_variant(session, experiment_id=_id(experiment), value=value, now=now)
    return experiment


def add_variant(
    session: Session,
    *,
    experiment_id: int,
    value: str,
    source: str = "marketer",
    now: datetime | None = None,
) -> ExperimentArm:
    """A new arm: the control when it is the first, active while fewer than 4 are, else queued
    for the next round."""
    experiment = get_experiment(session, experiment_id)
    try:
        value = validate_variant(experiment.dimension, value)
    except VariantError as exc:
        raise ExperimentError(str(exc)) from None
    arms = arms_of(session, experiment_id)
    if any(arm.value == value for arm in arms):
        raise ExperimentError(f"experiment {experiment.name!r} already tests {value!r}")
    active = [arm for arm in arms if arm.status == "active"]
    arm = ExperimentArm(
        experiment_id=experiment_id,
        value=value,
        source=source,
        status="active" if len(active) < MAX_VARIANTS else "queued",
        is_control=not any(arm.is_control for arm in arms),
        round_added=experiment.round,
        created_at=now or utcnow(),
    )
    session.add(arm)
    session.flush()
    return arm


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise ExperimentError(
            f"no experiment with id {experiment_id}; see `nurture experiment list`"
        )
    return experiment


def find_experiment(session: Session, ref: str) -> Experiment:
    """An experiment by id or by name."""
    experiment = session.exec(select(Experiment).where(Experiment.name == ref)).first()
    if experiment is None and ref.isdigit():
        experiment = session.get(Experiment, int(ref))
    if experiment is None:
        raise ExperimentError(
            f"no experiment {ref!r} (by id or name); see `nurture experiment list`"
        )
    return experiment


def arms_of(session: Session, experiment_id: int) -> list[ExperimentArm]:
    stmt = (
        select(ExperimentArm)
        .where(ExperimentArm.experiment_id == experiment_id)
        .order_by(col(ExperimentArm.id))
    )
    return list(session.exec(stmt))


def running_experiment(
    session: Session, *, segment: str, dimension: str, exact: bool = False
) -> Experiment | None:
    """The running experiment of this segment and dimension, else the one for every lead."""
    stmt = select(Experiment).where(
        Experiment.status == "running",
        Experiment.dimension == dimension,
        col(Experiment.segment).in_([segment] if exact else [segment, "*"]),
    )
    found = list(session.exec(stmt))
    found.sort(key=lambda e: e.segment == "*")  # a segment's own experiment first
    return found[0] if found else None


def running_segments(session: Session, *, dimension: str) -> set[str]:
    """The segments ('*': every lead) with a running experiment on `dimension`, in one query:
    the agent asks for every lead it drafts for, and most segments run none."""
    return running_by_dimension(session, dimensions=[dimension]).get(dimension, set())


def running_by_dimension(session: Session, *, dimensions: Sequence[str]) -> dict[str, set[str]]:
    """{dimension: segments with a running experiment on it}, for several dimensions at once."""
    stmt = select(col(Experiment.dimension), col(Experiment.segment)).where(
        Experiment.status == "running", col(Experiment.dimension).in_(list(dimensions))
    )
    running: dict[str, set[str]] = {}
    for dimension, segment in session.exec(stmt):
        running.setdefault(dimension, set()).add(segment)
    return running


def set_status(session: Session, *, experiment_id: int, status: str) -> Experiment:
    if status not in STATUSES:
        raise ExperimentError(f"status {status!r}: use one of {', '.join(STATUSES)}")
    experiment = get_experiment(session, experiment_id)
    if status == "running" and experiment.status != "running":
        clash = running_experiment(
            session, segment=experiment.segment, dimension=experiment.dimension, exact=True
        )
        if clash is not None:
            raise ExperimentError(
                f"experiment {clash.name!r} already runs on {experiment.segment!r} "
                f"({experiment.dimension}); stop it first"
            )
    experiment.status, experiment.updated_at = status, utcnow()
    session.add(experiment)
    session.flush()
    return experiment


def choose_variant(
    session: Session,
    *,
    segment: str,
    dimension: str,
    lead_id: int,
    rng: np.random.Generator,
    candidates: Callable[[], list[str]] | None = None,
    candidate_source: str = "draft",
    touch_id: int | None = None,
    eligible: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> Choice | None:
    """The variant this lead's next touch gets, from the segment's running experiment (or the
    one for every lead), recorded as an assignment; None when no experiment runs (or none of
    its arms is `eligible` for this touch). The trial is counted when the touch is sent.

    An experiment with fewer than two active arms takes its challengers from `candidates`
    (variants written for the draft at hand), so a promoted winner meets new ones."""
    experiment = running_experiment(session, segment=segment, dimension=dimension)
    if experiment is None:
        return None
    arms = [arm for arm in arms_of(session, _id(experiment)) if arm.status == "active"]
    if len(arms) < 2 and candidates is not None:
        _add_candidates(session, experiment, arms, candidates(), candidate_source, now)
        arms = [arm for arm in arms_of(session, _id(experiment)) if arm.status == "active"]
    if eligible is not None:
        arms = [arm for arm in arms if eligible(arm.value)]
    if not arms:
        return None
    stats = [ArmStats(arm.successes, arm.trials) for arm in arms]
    arm = arms[choose_arm(stats, rng, floor=experiment.floor)]
    assignment = ExperimentAssignment(
        experiment_id=_id(experiment),
        arm_id=_id(arm),
        lead_id=lead_id,
        touch_id=touch_id,
        assigned_at=now or utcnow(),
    )
    session.add(assignment)
    session.flush()
    return Choice(_id(experiment), _id(arm), _id(assignment), dimension, arm.value)


def _add_candidates(
    session: Session,
    experiment: Experiment,
    arms: list[ExperimentArm],
    values: list[str],
    source: str,
    now: datetime | None,
) -> None:
    known = {arm.value for arm in arms_of(session, _id(experiment))}
    room = MAX_VARIANTS - len(arms)
    for value in values:
        if room <= 0:
            break
        try:
            value = validate_variant(experiment.dimension, value)
        except VariantError:
            continue
        if value in known:
            continue
        add_variant(session, experiment_id=_id(experiment), value=value, source=source, now=now)
        known.add(value)
        room -= 1


def touch_of_event(session: Session, row: dict[str, Any]) -> int | None:
    """The touch an engagement event is about: its `touch_id`, or the outbox `message_id`."""
    props = row.get("properties") or {}
    raw = props.get("touch_id")
    if raw is not None:
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None
    message_id = props.get("message_id")
    if not message_id:
        return None
    stmt = select(OutboxMessage.touch_id).where(
        col(OutboxMessage.message_id).in_({str(message_id), str(message_id).strip("<>")})
    )
    return session.exec(stmt).first()


def record_engagement(
    session: Session,
    rows: Iterable[dict[str, Any]],
    *,
    rng: np.random.Generator | None = None,
    now: datetime | None = None,
) -> int:
    """Reward the arms behind the touches these events are about (each assignment once), then
    judge the experiments that moved. Returns the number of arms rewarded."""
    candidates = [row for row in rows if row.get("type") in REWARD_EVENTS]
    if not candidates or session.exec(select(Experiment.id).limit(1)).first() is None:
        return 0  # the common case on a bulk import: nothing to look up per event
    rewarded = 0
    moved: set[int] = set()
    for row in candidates:
        kind = str(row.get("type"))
        touch_id = touch_of_event(session, row)
        if touch_id is None:
            continue
        for assignment in _assignments_for(session, touch_id, row.get("lead_id")):
            experiment = session.get(Experiment, assignment.experiment_id)
            if experiment is None or kind not in OBJECTIVE_EVENTS[experiment.objective]:
                continue
            claimed = session.execute(
                update(ExperimentAssignment)
                .where(
                    col(ExperimentAssignment.id) == assignment.id,
                    col(ExperimentAssignment.rewarded_at).is_(None),
                    # Only a counted send can succeed: successes never outrun trials.
                    col(ExperimentAssignment.sent_at).is_not(None),
                )
                .values(rewarded_at=now or utcnow(), reward_event_id=row.get("source_event_id"))
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue  # a replayed or second event of the same touch
            session.execute(
                update(ExperimentArm)
                .where(col(ExperimentArm.id) == assignment.arm_id)
                .values(successes=ExperimentArm.successes + 1)
            )
            rewarded += 1
            moved.add(assignment.experiment_id)
    rng = rng if rng is not None else np.random.default_rng()
    for experiment_id in sorted(moved):
        evaluate(session, experiment_id=experiment_id, rng=rng, now=now)
    return rewarded


def _assignments_for(
    session: Session, touch_id: int, lead_id: int | None
) -> list[ExperimentAssignment]:
    """The assignments linked to the touch (when it was queued), if the event's lead is the
    touch's."""
    stmt = select(ExperimentAssignment).where(ExperimentAssignment.touch_id == touch_id)
    if lead_id is not None:
        stmt = stmt.where(ExperimentAssignment.lead_id == lead_id)
    return list(session.exec(stmt))


def evaluate(
    session: Session, *, experiment_id: int, rng: np.random.Generator, now: datetime | None = None
) -> Verdict | None:
    """Judge the active arms; a winner becomes the control and queued challengers start."""
    experiment = get_experiment(session, experiment_id)
    arms = [a for a in arms_of(session, experiment_id) if a.status == "active"]
    for arm in arms:
        session.refresh(arm)  # the counters moved by UPDATE statements
    if not arms:
        return None
    verdict = judge(
        [ArmStats(a.successes, a.trials) for a in arms],
        rng,
        threshold=experiment.threshold,
        min_trials=experiment.min_trials,
    )
    now = now or utcnow()
    for arm, p in zip(arms, verdict.p_best, strict=True):
        arm.p_best = round(p, 4)
        session.add(arm)
    experiment.last_verdict = {
        "round": experiment.round,
        "p_best": {str(a.id): round(p, 4) for a, p in zip(arms, verdict.p_best, strict=True)},
        "leader_arm_id": arms[verdict.leader].id,
        "winner_arm_id": None if verdict.winner is None else arms[verdict.winner].id,
        "reason": verdict.reason,
        "at": now.isoformat(),
    }
    if verdict.winner is not None:
        _promote(session, experiment, arms, arms[verdict.winner], now)
    experiment.updated_at = now
    session.add(experiment)
    session.flush()
    return verdict


def _promote(
    session: Session,
    experiment: Experiment,
    arms: list[ExperimentArm],
    winner: ExperimentArm,
    now: datetime,
) -> None:
    for arm in arms:
        if arm.id == winner.id:
            arm.is_control, arm.won_rounds = True, arm.won_rounds + 1
        else:
            arm.is_control, arm.status, arm.retired_at = False, "retired", now
        session.add(arm)
    experiment.round += 1
    queued = [a for a in arms_of(session, _id(experiment)) if a.status == "queued"]
    for arm in queued[: MAX_VARIANTS - 1]:
        arm.status, arm.round_added = "active", experiment.round
        session.add(arm)


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)
