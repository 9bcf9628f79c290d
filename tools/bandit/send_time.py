"""Send-time experiments: the hour band a touch goes out in, in the lead's own time zone.

A `send_hour_band` arm such as `9-11` narrows the send window to 09:00-11:00 local time for the
touches assigned to it; the band never widens the window (a band of 8-10 in a 09:00-17:00
window sends 09:00-10:00) and a band outside the window is never chosen. The scheduler picks
the band when it gives a touch its send time, and the outbox keeps to it when a send is
deferred (the frequency cap, the daily cap), so the arm is judged on sends inside its band.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, time

import numpy as np
from sqlmodel import Session, col, select

from store.models import Experiment, ExperimentArm, ExperimentAssignment
from tools.bandit.experiments import choose_variant, running_segments
from tools.bandit.variants import validate_variant
from tools.cadence import SendWindow

DIMENSION = "send_hour_band"


def hour_band(value: str) -> tuple[time, time]:
    """`9-11` -> (09:00, 11:00); `22-24` ends at 23:59:59 (the end of the day)."""
    start, end = (int(part) for part in validate_variant(DIMENSION, value).split("-"))
    return time(start), time(end) if end < 24 else time(23, 59, 59)


def band_window(window: SendWindow, value: str) -> SendWindow | None:
    """The send window narrowed to the band, or None when they do not overlap."""
    start, end = hour_band(value)
    start, end = max(start, window.start), min(end, window.end)
    if start >= end:
        return None
    return replace(window, start=start, end=end)


def choose_send_window(
    session: Session,
    *,
    lead_id: int,
    segments: Iterable[str],
    touch_id: int,
    window: SendWindow,
    rng: np.random.Generator,
    now: datetime | None = None,
) -> SendWindow:
    """The window this touch is scheduled in: narrowed to the hour band the lead's running
    send-time experiment (its segment's, else the one for every lead) picks, recorded as the
    touch's assignment; the window as it is when no such experiment runs."""
    running = running_segments(session, dimension=DIMENSION)
    if not running:
        return window
    segment = next((s for s in segments if s in running), "*" if "*" in running else None)
    if segment is None:
        return window
    choice = choose_variant(
        session,
        segment=segment,
        dimension=DIMENSION,
        lead_id=lead_id,
        rng=rng,
        touch_id=touch_id,
        eligible=lambda value: band_window(window, value) is not None,
        now=now,
    )
    if choice is None:
        return window
    return band_window(window, choice.value) or window


def touch_window(session: Session, *, touch_id: int, window: SendWindow) -> SendWindow:
    """The window a touch must go out in: narrowed to its assigned hour band, if it has one."""
    stmt = (
        select(ExperimentArm.value)
        .join(ExperimentAssignment, col(ExperimentAssignment.arm_id) == col(ExperimentArm.id))
        .join(Experiment, col(Experiment.id) == col(ExperimentAssignment.experiment_id))
        .where(ExperimentAssignment.touch_id == touch_id, Experiment.dimension == DIMENSION)
        .limit(1)
    )
    value = session.exec(stmt).first()
    if value is None:
        return window
    return band_window(window, value) or window
