"""Human approval of top-decile drafts: the queue, and a verdict that resumes the paused thread.

The verdict is recorded first, atomically (the first click wins; a second is told who decided),
then the lead's thread resumes. Should the process die in between, `resume_decided` finishes
the thread from the recorded verdict: a decision is never lost and never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.nurture.run import NurtureAgent, Verdict
from store import crud
from store.db import session_scope
from store.models import AgentRun, Approval, Draft, Lead, TouchStatus
from tools import lead_scoring
from tools.brief import factor_words

STATUSES = ("pending", "approved", "edited", "rejected", "all")


class ApprovalError(ValueError):
    """A verdict that cannot be applied (unknown id, missing reason or edit)."""


@dataclass(frozen=True)
class Outcome:
    approval_id: int
    status: str
    decided_by: str | None
    already_decided: bool
    result: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_approvals(session: Session, *, status: str = "pending") -> list[dict[str, Any]]:
    """The approval queue, newest first, with what a reviewer needs to decide."""
    if status not in STATUSES:
        raise ApprovalError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    stmt = (
        select(Approval, Draft, Lead)
        .join(Draft, col(Draft.id) == Approval.draft_id)
        .join(Lead, col(Lead.id) == Draft.lead_id)
        .order_by(col(Approval.created_at).desc(), col(Approval.id).desc())
    )
    if status != "all":
        stmt = stmt.where(Approval.status == status)
    return [card(session, approval, draft, lead) for approval, draft, lead in session.exec(stmt)]


def card(session: Session, approval: Approval, draft: Draft, lead: Lead) -> dict[str, Any]:
    score = crud.latest_score(session, lead_id=lead.id) if lead.id else None
    name = lead.display_name
    return {
        "id": approval.id,
        "status": approval.status,
        "created_at": approval.created_at.isoformat(),
        "decided_by": approval.decided_by,
        "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
        "reason": approval.reason,
        "lead": {
            "id": lead.id,
            "name": name,
            "email": lead.email,
            "company": lead.company,
            "role": lead.role,
            "owner": lead.owner,
            "score": score.score if score else None,
            "decile": score.decile if score else None,
            "factors": factor_words(lead_scoring.reasons(session, score)) if score else [],
            "segments": crud.current_segments(session, lead_id=lead.id) if lead.id else [],
        },
        "draft": {
            "id": draft.id,
            "kind": draft.kind,
            "subject": approval.edited_subject or draft.subject,
            "preview": draft.preview,
            "body": approval.edited_body or draft.body,
            "sources": draft.sources,
            "model": draft.model,
            "prompt_version": draft.prompt_version,
        },
    }


def decide(engine: Engine, agent: NurtureAgent, approval_id: int, verdict: Verdict) -> Outcome:
    """Record the verdict once, then resume the lead's paused thread with it."""
    _check(verdict)
    with session_scope(engine) as session:
        found = session.exec(
            select(Approval, Draft)
            .join(Draft, col(Draft.id) == Approval.draft_id)
            .where(Approval.id == approval_id)
        ).first()
        if found is None:
            raise ApprovalError(f"no approval with id {approval_id} (see `nurture approvals list`)")
        approval, draft = found
        thread_id = approval.thread_id
        recorded = crud.decide_approval(
            session,
            approval_id=approval_id,
            status=verdict.status,
            decided_by=verdict.by,
            reason=verdict.reason,
            edited_subject=verdict.subject,
            edited_body=verdict.body,
        )
        lead_id = draft.lead_id
    if not recorded:
        with session_scope(engine) as session:
            stored = session.get(Approval, approval_id)
            assert stored is not None
            return Outcome(approval_id, stored.status, stored.decided_by, already_decided=True)
    if thread_id is None:  # queued from chat, not by a paused nurture pass
        with session_scope(engine) as session:
            result = apply_to_touch(session, approval_id=approval_id)
        return Outcome(approval_id, verdict.status, verdict.by, False, result)
    resumed = agent.resume(lead_id, verdict)
    return Outcome(approval_id, verdict.status, verdict.by, False, resumed.get("result"))


def apply_to_touch(session: Session, *, approval_id: int) -> str:
    """A decided approval with no paused thread: release or drop its touch directly."""
    approval = session.get(Approval, approval_id)
    draft = session.get(Draft, approval.draft_id) if approval else None
    if approval is None or draft is None or draft.touch_id is None:
        return "no touch"
    if approval.status == "rejected":
        crud.set_touch_status(
            session,
            touch_id=draft.touch_id,
            status=TouchStatus.skipped,
            skip_reason=f"rejected: {approval.reason}",
        )
        return "rejected"
    crud.set_touch_status(session, touch_id=draft.touch_id, status=TouchStatus.approved)
    return "scheduled"


def resume_decided(engine: Engine, agent: NurtureAgent) -> list[int]:
    """Finish threads whose verdict was recorded but whose resume never ran (a crash)."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Approval, Draft)
            .join(Draft, col(Draft.id) == Approval.draft_id)
            .join(AgentRun, col(AgentRun.touch_id) == Draft.touch_id)
            .where(Approval.status != "pending", AgentRun.status == "awaiting_approval")
        ).all()
        verdicts = [(draft.lead_id, _verdict_of(approval), approval.id) for approval, draft in rows]
    done = []
    for lead_id, verdict, approval_id in verdicts:
        agent.resume(lead_id, verdict)
        done.append(int(approval_id or 0))
    return done


def _verdict_of(approval: Approval) -> Verdict:
    return Verdict(
        status=approval.status,
        by=approval.decided_by or "unknown",
        reason=approval.reason,
        subject=approval.edited_subject,
        body=approval.edited_body,
    )


def _check(verdict: Verdict) -> None:
    if verdict.status not in ("approved", "edited", "rejected"):
        raise ApprovalError(f"a verdict is approved, edited or rejected, not {verdict.status!r}")
    if verdict.status == "rejected" and not (verdict.reason or "").strip():
        raise ApprovalError("a rejection needs a reason (--reason): it feeds scoring and evals")
    if verdict.status == "edited" and not (verdict.subject or verdict.body):
        raise ApprovalError("an edit needs a new subject or body (--edit FILE)")
