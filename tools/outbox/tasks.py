"""Delivery tasks (a personal video to record, an SDR's call or note): marking one done.

The outbox creates them when their touch comes due; a person does the work and says so
(Slack's Done button or `nurture tasks done`, both through `complete_task`). The first one
wins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.models import DeliveryTask, Lead, utcnow

KIND_LABELS = {"video": "personal video", "sdr_task": "SDR task"}
STATUSES = ("open", "done", "all")


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


def list_tasks(
    session: Session, *, status: str = "open", assignee: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Delivery tasks, oldest first (the next one to do on top), with their lead."""
    if status not in STATUSES:
        raise TaskError(f"status {status!r}: use one of {', '.join(STATUSES)}")
    stmt = (
        select(DeliveryTask, Lead)
        .join(Lead, col(Lead.id) == DeliveryTask.lead_id)
        .order_by(col(DeliveryTask.created_at), col(DeliveryTask.id))
        .limit(limit)
    )
    if status != "all":
        stmt = stmt.where(DeliveryTask.status == status)
    if assignee:
        stmt = stmt.where(DeliveryTask.assignee == assignee)
    return [_view(task, lead) for task, lead in session.exec(stmt)]


def _view(task: DeliveryTask, lead: Lead) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "kind_label": KIND_LABELS.get(task.kind, task.kind),
        "lead_id": lead.id,
        "lead": lead.display_name,
        "company": lead.company,
        "assignee": task.assignee,
        "title": task.title,
        "body": task.body,
        "status": task.status,
        "created_at": task.created_at.isoformat(timespec="minutes"),
        "done_by": task.done_by,
        "done_at": task.done_at.isoformat(timespec="minutes") if task.done_at else None,
    }
