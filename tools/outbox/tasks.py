"""Delivery tasks (a personal video to record, an SDR's call or note): marking one done.

The outbox creates them when their touch comes due; a person does the work and says so
(Slack's Done button, or anything else that calls `complete_task`). The first one wins.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session, col

from store.models import DeliveryTask, utcnow

KIND_LABELS = {"video": "personal video", "sdr_task": "SDR task"}


class TaskError(ValueError):
    """A task that cannot be marked done; the message says why."""


class TaskAlreadyDone(TaskError):
    """A second Done (a double click, or a colleague later)."""

    def __init__(self, task: DeliveryTask) -> None:
        self.task = task
        when = task.done_at.isoformat(timespec="minutes") if task.done_at else "?"
        who = task.done_by or "someone"
        super().__init__(f"task {task.id} was already done by {who} at {when}")


def complete_task(
    session: Session, task_id: int, by: str, *, now: datetime | None = None
) -> DeliveryTask:
    """Mark an open task done by `by`, once: a single conditional write, so two clicks at the
    same moment record one person."""
    if not by or not by.strip():
        raise TaskError("say who did the task (a name or a Slack id)")
    at = now or utcnow()
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    row = session.get(DeliveryTask, task_id)
    if row is None:
        raise TaskError(f"no delivery task with id {task_id}")
    done = session.execute(
        update(DeliveryTask)
        .where(col(DeliveryTask.id) == task_id, col(DeliveryTask.status) == "open")
        .values(status="done", done_by=by.strip()[:120], done_at=at)
        .returning(col(DeliveryTask.id))
    ).first()
    session.refresh(row)
    if done is None:
        raise TaskAlreadyDone(row)
    return row
