"""What is waiting for the SDRs: the answer to `@nurture` in Slack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import select

from store import crud
from store.db import session_scope
from store.models import Approval, DeliveryTask
from tools.handoff import sla_state

if TYPE_CHECKING:
    from ui.slack.desk import SlackDesk


def summary_text(desk: SlackDesk) -> str:
    now = desk.clock()
    with session_scope(desk.runtime.engine) as session:
        drafts = session.exec(
            select(func.count()).select_from(Approval).where(Approval.status == "pending")
        ).one()
        handoffs = crud.list_handoffs(session, status="pending")
        tasks = session.exec(
            select(func.count()).select_from(DeliveryTask).where(DeliveryTask.status == "open")
        ).one()
        states = [
            sla_state(h, now=now, warn_hours=desk.config.handoff_remind_hours) for h in handoffs
        ]
    lines = [
        f":inbox_tray: *{drafts}* draft(s) waiting for approval",
        f":handshake: *{len(handoffs)}* open hand-off(s): {states.count('breached')} past the "
        f"SLA, {states.count('due_soon')} due within "
        f"{desk.config.handoff_remind_hours:g} business hour(s)",
        f":memo: *{tasks}* task(s) to do (videos to record, SDR steps)",
    ]
    if not drafts and not handoffs and not tasks:
        lines = [
            ":white_check_mark: Nothing is waiting: no drafts to approve, no open hand-offs, "
            "no tasks to do."
        ]
    return "\n".join(lines)
