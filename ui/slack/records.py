"""What a Slack card shows, read from the store: an approval, a hand-off or a delivery task,
with its lead."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from agent.approvals import card
from knowledge.library import LibraryError, load_library
from store import crud
from store.models import AgentRun, Approval, DeliveryTask, Draft, Handoff, Lead, Touch
from tools.brief import label
from tools.handoff import REJECT_REASONS, handoff_view
from tools.outbox.message import content_of


def approval_record(session: Session, approval_id: int) -> dict[str, Any] | None:
    """The approval queue's view of one draft, plus the pass that queued it and its touch."""
    found = session.exec(
        select(Approval, Draft, Lead)
        .join(Draft, col(Draft.id) == Approval.draft_id)
        .join(Lead, col(Lead.id) == Draft.lead_id)
        .where(Approval.id == approval_id)
    ).first()
    if found is None:
        return None
    approval, draft, lead = found
    data = card(session, approval, draft, lead)
    data["decided_at_dt"] = approval.decided_at
    data["created_at_dt"] = approval.created_at
    data["draft"]["guardrail_issues"] = list(draft.guardrails or [])
    data["draft"]["source_titles"] = [_source_title(str(url)) for url in draft.sources or []]
    run = None
    if draft.touch_id is not None:
        run = session.exec(
            select(AgentRun)
            .where(AgentRun.touch_id == draft.touch_id)
            .order_by(col(AgentRun.started_at).desc())
        ).first()
        touch = session.get(Touch, draft.touch_id)
        data["touch"] = (
            {"status": str(touch.status), "due_at": touch.due_at, "skip": touch.skip_reason}
            if touch
            else None
        )
    else:
        data["touch"] = None
    data["trigger"] = _trigger_label(run.trigger if run else None)
    data["why"] = _action_reason(run.reason if run else None)
    return data


def handoff_record(
    session: Session, handoff_id: int, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """A hand-off as the SDR reads it: the lead, why now, the talk track, the SLA."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    lead = session.get(Lead, handoff.lead_id)
    if lead is None:
        return None
    view = handoff_view(handoff, now=now)
    view["lead"] = _lead_view(session, lead)
    view["sla_due_at_dt"] = handoff.sla_due_at
    view["decided_at_dt"] = handoff.decided_at
    view["created_at_dt"] = handoff.created_at
    view["sla_hours"] = (handoff.details or {}).get("sla_business_hours")
    view["reject_label"] = REJECT_REASONS.get(handoff.reject_reason or "", handoff.reject_reason)
    return view


def task_record(session: Session, task_id: int) -> dict[str, Any] | None:
    """A delivery task as the person doing it reads it: the lead, the script or suggested
    message (as approved: an edit wins), when it is due, and who marked it done."""
    task = session.get(DeliveryTask, task_id)
    if task is None:
        return None
    lead = session.get(Lead, task.lead_id)
    if lead is None:
        return None
    touch = session.get(Touch, task.touch_id)
    draft = session.exec(select(Draft).where(Draft.touch_id == task.touch_id)).first()
    script = None
    if draft is not None:
        approval = session.exec(select(Approval).where(Approval.draft_id == draft.id)).first()
        content = content_of(draft, approval)
        script = {"subject": content.subject, "text": content.text}
    return {
        "id": task.id,
        "kind": task.kind,
        "status": task.status,
        "title": task.title,
        "body": task.body,
        "assignee": task.assignee,
        "lead": _lead_view(session, lead),
        "script": script,
        # The slot the cadence planned for this touch (in the lead's business hours).
        "due_at_dt": (touch.due_at if touch else None) or task.created_at,
        "created_at_dt": task.created_at,
        "done_by": task.done_by,
        "done_at_dt": task.done_at,
    }


def _lead_view(session: Session, lead: Lead) -> dict[str, Any]:
    score = crud.latest_score(session, lead_id=lead.id) if lead.id else None
    return {
        "id": lead.id,
        "name": lead.display_name,
        "email": lead.email,
        "company": lead.company,
        "role": lead.role,
        "owner": lead.owner,
        "stage": str(lead.lifecycle_stage),
        "score": score.score if score else None,
        "decile": score.decile if score else None,
        "segments": crud.current_segments(session, lead_id=lead.id) if lead.id else [],
    }


def _action_reason(text: str | None) -> str | None:
    """The agent's reason for the touch, without the pass's result code in front."""
    if not text:
        return None
    code, _, rest = text.partition(": ")
    return rest if rest and code.replace("_", "").isalpha() and code.islower() else text


def _trigger_label(trigger: str | None) -> str | None:
    if not trigger:
        return None
    return label(trigger)


@lru_cache(maxsize=1)
def _titles() -> dict[str, str]:
    try:
        return {asset.url: asset.title for asset in load_library()}
    except LibraryError:
        return {}


def _source_title(url: str) -> str | None:
    return _titles().get(url)
