"""What is waiting for the SDRs: the answer to `@nurture` in Slack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import select

from store import crud
from store.db import session_scope
from store.models import Approval
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
        states = [
            sla_state(h, now=now, warn_hours=desk.config.handoff_remind_hours) for h in handoffs
        ]
    lines = [
        f":inbox_tray: *{drafts}* draft(s) waiting for approval",
        f":handshake: *{len(handoffs)}* open hand-off(s): {states.count('breached')} past the "
        f"SLA, {states.count('due_soon')} due within "
        f"{desk.config.handoff_remind_hours:g} business hour(s)",
    ]
    if not drafts and not handoffs:
        lines = [":white_check_mark: Nothing is waiting: no drafts to approve, no open hand-offs."]
    return "\n".join(lines)
