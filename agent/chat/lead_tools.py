"""Chat tools about leads: find them, explain their score and segments, see the review queue."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool, tool
from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from agent.approvals import list_approvals as approval_queue
from store import crud
from store.db import session_scope
from store.models import Lead, LifecycleStage, Outcome, Score, SegmentMembership
from tools import lead_scoring
from tools.brief import factor_words
from tools.segments.membership import membership_history

MAX_MATCHES = 10
SEARCHED = ("first_name", "last_name", "company", "email", "role", "industry")


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def hottest_leads(
    session: Session, *, limit: int = 10, segment: str | None = None
) -> list[dict[str, Any]]:
    """The highest-scored open leads (optionally of a segment, `mofu:*` patterns too), with
    the reasons a rep would read."""
    latest = (
        select(col(Score.lead_id).label("lead_id"), func.max(Score.id).label("id"))
        .group_by(col(Score.lead_id))
        .subquery()
    )
    stmt = (
        select(Score, Lead)
        .join(latest, latest.c.id == Score.id)
        .join(Lead, col(Lead.id) == Score.lead_id)
        .where(col(Lead.lifecycle_stage).in_([LifecycleStage.lead, LifecycleStage.mql]))
        .where(col(Lead.id).not_in(select(col(Outcome.lead_id))))
        .order_by(col(Score.score).desc(), col(Score.id))
        .limit(max(1, min(limit, 50)))
    )
    if segment:
        name = col(SegmentMembership.segment)
        match = name.startswith(segment[:-1]) if segment.endswith("*") else name == segment
        members = select(col(SegmentMembership.lead_id)).where(
            match, col(SegmentMembership.exited_at).is_(None)
        )
        stmt = stmt.where(col(Lead.id).in_(members))
    scorer = lead_scoring.current_scorer(session)
    out = []
    for score, lead in session.exec(stmt):
        assert lead.id is not None
        factors = lead_scoring.reasons(session, score, scorer=scorer)
        out.append(
            {
                "lead_id": lead.id,
                "name": lead.display_name,
                "company": lead.company,
                "role": lead.role,
                "score": score.score,
                "decile": score.decile,
                "segments": crud.current_segments(session, lead_id=lead.id),
                "factors": factor_words(factors),
            }
        )
    return out


def lead_tools(engine: Engine) -> list[BaseTool]:
    """The lead tools over this store."""

    @tool
    def find_leads(query: str) -> str:
        """Find leads by name, company, email, role or industry words (e.g. "Acme VP").

        Returns up to 10 matches with id, name, company, role, score and decile, best first.
        Use it to turn a description of a lead into a lead id.
        """
        words = [w for w in query.replace("'s", " ").split() if len(w) > 1][:6]
        if not words:
            return dumps({"matches": [], "error": "give a name, company, email or role"})
        with session_scope(engine) as session:
            conditions = [
                or_(*(func.lower(getattr(Lead, f)).contains(w.lower()) for f in SEARCHED))
                for w in words
            ]
            # Every word must match somewhere; fall back to any word when none match all.
            rows = list(session.exec(select(Lead).where(*conditions).limit(200)))
            if not rows:
                rows = list(session.exec(select(Lead).where(or_(*conditions)).limit(200)))
            matches = []
            for lead in rows:
                score = crud.latest_score(session, lead_id=lead.id) if lead.id else None
                matches.append(
                    {
                        "lead_id": lead.id,
                        "name": lead.display_name,
                        "company": lead.company,
                        "role": lead.role,
                        "score": score.score if score else None,
                        "decile": score.decile if score else None,
                    }
                )
        matches.sort(key=lambda m: -float(m["score"] or 0))
        return dumps({"query": query, "matches": matches[:MAX_MATCHES]})

    @tool
    def score_lead(lead_id: int) -> str:
        """Score one lead now and explain it: score 0-100, decile (1 = top 10 %), fit and
        behaviour axes, whether it passes the MQL rule, and the top factors in a rep's words."""
        with session_scope(engine) as session:
            lead = session.get(Lead, lead_id)
            if lead is None:
                return dumps({"error": f"no lead with id {lead_id}"})
            scorer = lead_scoring.current_scorer(session)
            [row] = lead_scoring.score_leads(session, lead_ids=[lead_id], scorer=scorer)
            factors = lead_scoring.reasons(session, row, scorer=scorer)
            return dumps(
                {
                    "lead_id": lead_id,
                    "name": lead.display_name,
                    "company": lead.company,
                    "role": lead.role,
                    "score": row.score,
                    "decile": row.decile,
                    "fit": row.fit,
                    "behaviour": row.behaviour,
                    "lifecycle_stage": str(lead.lifecycle_stage),
                    "model_version": row.model_version,
                    "factors": factor_words(factors),
                }
            )

    @tool
    def segment_lead(lead_id: int) -> str:
        """The segments one lead is in now (rules and behavioural clusters) and its history."""
        with session_scope(engine) as session:
            lead = session.get(Lead, lead_id)
            if lead is None:
                return dumps({"error": f"no lead with id {lead_id}"})
            return dumps(
                {
                    "lead_id": lead_id,
                    "name": lead.display_name,
                    "segments": crud.current_segments(session, lead_id=lead_id),
                    "history": membership_history(session, lead_id=lead_id)[-10:],
                }
            )

    @tool
    def list_approvals(status: str = "pending") -> str:
        """Drafts in the review queue: status pending (default), approved, edited, rejected
        or all; each with the lead, its score and the draft's subject."""
        with session_scope(engine) as session:
            items = approval_queue(session, status=status)
        return dumps(
            {
                "status": status,
                "count": len(items),
                "approvals": [
                    {
                        "id": i["id"],
                        "status": i["status"],
                        "lead": i["lead"]["name"],
                        "lead_id": i["lead"]["id"],
                        "decile": i["lead"]["decile"],
                        "subject": i["draft"]["subject"],
                        "decided_by": i["decided_by"],
                    }
                    for i in items[:20]
                ],
            }
        )

    @tool
    def top_leads(limit: int = 10, segment: str | None = None) -> str:
        """The hottest open leads, best first: score, decile and why, optionally of one
        segment (a name or a pattern such as "late:*")."""
        with session_scope(engine) as session:
            found = hottest_leads(session, limit=limit, segment=segment)
        return dumps({"segment": segment, "leads": found})

    return [find_leads, score_lead, segment_lead, list_approvals, top_leads]
