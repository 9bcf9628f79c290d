"""The nurture graph's writes to the store, each keyed on the pass's run key (safe to re-run)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from agent.nurture.deps import NurtureDeps
from agent.nurture.state import NurtureState, Result
from store import crud
from store.models import AgentRun, Approval, Draft, Touch, TouchStatus, utcnow
from tools.cadence import next_send_slot
from tools.schemas import LeadBrief, NextAction, Sender
from tools.senders import as_header
from tools.triggers.steps import consume_step

CHANNEL_OF = {"send_email": "email", "send_video": "video"}


def run_row(session: Session, run_key: str) -> AgentRun | None:
    return session.exec(select(AgentRun).where(AgentRun.run_key == run_key)).first()


def start_run(session: Session, *, state: NurtureState, now: datetime) -> AgentRun:
    row = run_row(session, state["run_key"])
    if row is None:
        row = AgentRun(
            lead_id=state["lead_id"],
            thread_id=thread_id_of(state["lead_id"]),
            run_key=state["run_key"],
            trigger=state.get("trigger"),
            started_at=now,
        )
        session.add(row)
        session.flush()
    return row


def finish_run(
    session: Session,
    *,
    state: NurtureState,
    result: Result,
    next_check_at: datetime | None = None,
    **links: Any,
) -> None:
    action = state.get("action") or {}
    # One UPDATE by run key, no read first (every pass ends here); no step holds the row.
    session.execute(
        update(AgentRun)
        .execution_options(synchronize_session=False)
        .where(col(AgentRun.run_key) == state["run_key"])
        .values(
            status="awaiting_approval" if result == "awaiting_approval" else "done",
            action=action.get("action"),
            reason=f"{result}: {action.get('reason', '')}".strip(": "),
            next_check_at=next_check_at,
            finished_at=None if result == "awaiting_approval" else utcnow(),
            **links,
        )
    )


def fail_run(session: Session, *, state: NurtureState, error: str, now: datetime) -> None:
    """Record why a pass stopped (a first step that failed rolled its record back with it); its
    thread keeps the last good step for the next attempt."""
    row = start_run(session, state=state, now=now)
    row.status, row.error, row.finished_at = "failed", error[:2000], utcnow()
    session.add(row)


def thread_id_of(lead_id: int) -> str:
    return f"lead-{lead_id}"


def queue_draft(session: Session, *, state: NurtureState, deps: NurtureDeps) -> dict[str, Any]:
    """Store the touch and its draft once; hold it on guardrail findings; ask for approval."""
    brief = LeadBrief.model_validate(state["brief"])
    action = NextAction.model_validate(state["action"])
    key = f"{state['run_key']}:touch"
    touch = session.exec(select(Touch).where(Touch.idempotency_key == key)).first()
    draft = None
    if touch is None:
        touch = _new_touch(
            session, state=state, key=key, channel=CHANNEL_OF[action.action], now=deps.clock()
        )
    else:  # a queue step run again: its draft may be stored too
        draft = session.exec(select(Draft).where(Draft.touch_id == touch.id)).first()
    if draft is None:
        draft = _new_draft(session, state=state, lead_id=brief.lead_id, touch_id=touch.id)
    issues = state.get("guardrail_issues") or []
    if issues:
        codes = ", ".join(sorted({str(i.get("code")) for i in issues}))
        crud.set_touch_status(
            session, touch_id=_id(touch), status=TouchStatus.skipped, skip_reason=f"held: {codes}"
        )
        finish_run(session, state=state, result="held", touch_id=touch.id)
        return {"touch_id": touch.id, "draft_id": draft.id, "result": "held"}
    if not (deps.needs_approval(brief) or state["draft"].get("needs_review")):
        return {"touch_id": touch.id, "draft_id": draft.id, "approval_id": None}
    approval = session.exec(select(Approval).where(Approval.draft_id == draft.id)).first()
    if approval is None:
        approval = crud.request_approval(
            session, draft_id=_id(draft), thread_id=thread_id_of(brief.lead_id)
        )
    finish_run(session, state=state, result="awaiting_approval", touch_id=touch.id)
    return {
        "touch_id": touch.id,
        "draft_id": draft.id,
        "approval_id": approval.id,
        "result": "awaiting_approval",
    }


def _new_touch(
    session: Session, *, state: NurtureState, key: str, channel: str, now: datetime
) -> Touch:
    """The touch row; one drafted for a due sequence step records and consumes that step."""
    hint = state.get("hint") or {}
    enrollment_id, step = hint.get("enrollment_id"), hint.get("step")
    touch = Touch(
        lead_id=state["lead_id"],
        # A step for an SDR goes out as a task (the draft is the suggested message).
        channel="sdr_task" if hint.get("channel") == "sdr_task" else channel,
        status=TouchStatus.drafted,
        idempotency_key=key,
        enrollment_id=enrollment_id,
        step=step,
        # The draft is signed by this pass's sender: the email goes out from the same person.
        sender=as_header(Sender.model_validate(state["sender"])) if state.get("sender") else None,
    )
    touch = crud.add_touch(session, touch=touch)
    if enrollment_id is not None and step is not None:
        consume_step(session, enrollment_id=int(enrollment_id), step=int(step), at=now)
    return touch


def _new_draft(
    session: Session, *, state: NurtureState, lead_id: int, touch_id: int | None
) -> Draft:
    drafted = state["draft"]
    content = drafted["content"]
    return crud.add_draft(
        session,
        draft=Draft(
            touch_id=touch_id,
            lead_id=lead_id,
            kind=drafted["kind"],
            subject=content.get("subject") or content.get("title"),
            preview=content.get("preview"),
            body=drafted["body"],
            html=drafted.get("html"),
            sources=drafted.get("sources", []),
            model=drafted.get("model"),
            prompt_version=drafted.get("prompt_version"),
            tokens=(drafted.get("prompt_tokens") or 0) + (drafted.get("completion_tokens") or 0),
            prompt_tokens=drafted.get("prompt_tokens"),
            completion_tokens=drafted.get("completion_tokens"),
            cost_usd=drafted.get("cost_usd"),
            guardrails=state.get("guardrail_issues") or [],
        ),
    )


def apply_decision(session: Session, *, state: NurtureState, deps: NurtureDeps) -> dict[str, Any]:
    """Record the human's verdict once; the first decision recorded wins over a late click."""
    decision = state.get("decision") or {}
    approval_id = _id_value(state.get("approval_id"))
    crud.decide_approval(
        session,
        approval_id=approval_id,
        status=str(decision.get("status", "approved")),
        decided_by=str(decision.get("by", "unknown")),
        reason=decision.get("reason"),
        edited_subject=decision.get("subject"),
        edited_body=decision.get("body"),
    )
    approval = session.get(Approval, approval_id)
    assert approval is not None
    session.refresh(approval)
    if approval.status == "rejected":
        crud.set_touch_status(
            session,
            touch_id=_id_value(state.get("touch_id")),
            status=TouchStatus.skipped,
            skip_reason=f"rejected: {approval.reason or 'no reason given'}",
        )
        finish_run(session, state=state, result="rejected")
        return {"result": "rejected", "decision": _stored(approval)}
    return {"decision": _stored(approval)}


def _stored(approval: Approval) -> dict[str, Any]:
    return {
        "status": approval.status,
        "by": approval.decided_by,
        "reason": approval.reason,
        "subject": approval.edited_subject,
        "body": approval.edited_body,
    }


def schedule(session: Session, *, state: NurtureState, deps: NurtureDeps) -> dict[str, Any]:
    """Give the touch its send time: after the wait, the per-lead gap, in the lead's hours."""
    brief = LeadBrief.model_validate(state["brief"])
    action = NextAction.model_validate(state["action"])
    touch = session.get(Touch, _id_value(state.get("touch_id")))
    assert touch is not None
    if touch.status in (TouchStatus.drafted, TouchStatus.planned):
        now = deps.clock()
        touch.due_at = next_send_slot(
            now,
            timezone=brief.timezone,
            last_touch_at=last_touch_at(session, lead_id=brief.lead_id, excluding=touch.id),
            not_before=now + timedelta(days=action.wait_days),
            window=deps.window_for(session, brief, _id(touch), deps.window),
        )
        touch.status = TouchStatus.approved
        session.add(touch)
    due = touch.due_at
    next_check = due + timedelta(days=deps.window.min_gap_days) if due else None
    finish_run(
        session, state=state, result="scheduled", next_check_at=next_check, touch_id=touch.id
    )
    return {"result": "scheduled"}


def last_touch_at(session: Session, *, lead_id: int, excluding: int | None) -> datetime | None:
    """The latest touch sent or scheduled for this lead: the frequency cap counts both."""
    stmt = select(Touch).where(
        Touch.lead_id == lead_id,
        col(Touch.status).in_([TouchStatus.sent, TouchStatus.approved]),
        col(Touch.id) != excluding,
    )
    moments = [t.sent_at or t.due_at for t in session.exec(stmt)]
    aware = [m for m in moments if m is not None]
    return max(aware) if aware else None


def hand_off(session: Session, *, state: NurtureState, deps: NurtureDeps) -> dict[str, Any]:
    brief = LeadBrief.model_validate(state["brief"])
    action = NextAction.model_validate(state["action"])
    handoff_id = deps.hand_off(session, brief, action)
    finish_run(session, state=state, result="handed_off", handoff_id=handoff_id)
    return {"handoff_id": handoff_id, "result": "handed_off"}


def _id(row: Touch | Draft) -> int:
    assert row.id is not None
    return row.id


def _id_value(value: Any) -> int:
    if value is None:
        raise ValueError("the graph state lost an id it needs")
    return int(value)
