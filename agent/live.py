"""Right after events are stored: rescore and resegment the leads they touched.

Runs after the events are committed, in its own transaction, so a scoring failure (say, a model
file from another version) never loses an event; it is logged and the next event retries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from store.db import session_scope
from tools import lead_scoring
from tools.scoring.errors import ScoringError
from tools.segments.assign import resegment_all, segment_lead

log = logging.getLogger("nurture.live")


def refresh_leads(
    engine: Engine, lead_ids: Iterable[int], *, now: datetime | None = None
) -> dict[str, Any]:
    """Score and segment these leads now; returns what changed (empty on failure)."""
    ids = sorted(set(lead_ids))
    if not ids:
        return {"leads": 0}
    now = now or datetime.now(UTC)
    try:
        with session_scope(engine) as session:
            scores = lead_scoring.score_leads(session, lead_ids=ids, now=now)
            if len(ids) == 1:
                segmented = segment_lead(session, lead_id=ids[0], now=now).as_dict()
            else:
                segmented = resegment_all(session, now=now, lead_ids=ids)
    except (ScoringError, KeyError) as exc:
        log.error("could not refresh %d lead(s): %s", len(ids), exc)
        return {"leads": 0, "error": str(exc)}
    top = [s.lead_id for s in scores if s.decile == 1]
    return {"leads": len(ids), "top_decile": top, "segments": segmented}
