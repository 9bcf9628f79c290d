"""Nurture's uplift over the holdout cohort, from the store: what `nurture report experiments`
and the pipeline summary show.

Leads are split by `in_holdout` (the same hash the agent uses); a lead converted when it
reached SQL (an `sql_at`, or SQL / customer now) or has a won outcome. The figure is the
difference of the two conversion rates with Newcombe's 95 % interval (Wilson per cohort), over
the leads created in the period (all leads when `since` is None).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from store.models import Lead, Outcome, OutcomeKind
from tools.bandit.holdout import in_holdout, uplift, verdict


def holdout_report(
    session: Session,
    *,
    share: float,
    salt: str,
    since: datetime | None = None,
    until: datetime | None = None,
    lead_ids: Any = None,
) -> dict[str, Any]:
    """Conversion to SQL or won, nurtured leads against the holdout, with the uplift's CI and a
    verdict in words, over the leads created in [since, until) and among `lead_ids` (a
    subquery of lead ids, or None for every lead)."""
    won = select(Outcome.lead_id).where(Outcome.kind == OutcomeKind.won)
    converted = or_(
        col(Lead.sql_at).is_not(None),
        col(Lead.lifecycle_stage).in_(["sql", "customer"]),
        col(Lead.id).in_(won),
    )
    stmt = select(Lead.id, converted)
    if since is not None:
        stmt = stmt.where(Lead.created_at >= since)
    if until is not None:
        stmt = stmt.where(Lead.created_at < until)
    if lead_ids is not None:
        stmt = stmt.where(col(Lead.id).in_(lead_ids))
    counts = {"nurtured": [0, 0], "holdout": [0, 0]}
    for lead_id, did_convert in session.exec(stmt):
        held = in_holdout(int(lead_id or 0), share=share, salt=salt)
        cohort = counts["holdout" if held else "nurtured"]
        cohort[0] += 1
        cohort[1] += int(bool(did_convert))
    result = uplift(counts["nurtured"][0], counts["nurtured"][1], *counts["holdout"])
    code, sentence = verdict(result, share=share)
    return {
        "holdout_share": share,
        "conversion": "reached SQL or won",
        "since": since.isoformat() if since else None,
        **result.as_dict(),
        "verdict": code,
        "verdict_text": sentence,
    }
