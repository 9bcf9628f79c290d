"""The demo job: load the synthetic sample into the store and summarise what nurture sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import col, select

from agent import ingest
from agent.approvals import list_approvals, resume_decided
from agent.chat.lead_tools import hottest_leads
from agent.knowledge import index_library
from agent.runtime import Runtime
from agent.wiring import nurture_agent
from sample.generate import ensure_sample
from store import crud
from store.db import session_scope
from store.models import Handoff, ModelVersion
from tools import lead_scoring
from tools.handoff import handoff_view
from tools.scoring.errors import ModelVersionError
from tools.segments.assign import resegment_all
from tools.segments.clusters import refresh_clusters

# The demo runs the agent on the hottest due leads; `nurture agent run --all-due` does the rest.
DEMO_AGENT_LEADS = 150


def load_sample(runtime: Runtime, sample_dir: Path | None = None) -> dict[str, Any]:
    """Generate the sample once (seeded), then import it; a second run imports nothing new."""
    folder = ensure_sample(sample_dir or runtime.settings.var_dir / "sample")
    engine = runtime.engine
    return {
        "sample_dir": str(folder),
        "leads": ingest.import_leads(engine, folder / "leads.csv").as_dict(),
        "events": ingest.import_events(engine, folder / "events.jsonl").as_dict(),
        "outcomes": ingest.import_outcomes(engine, folder / "outcomes.csv").as_dict(),
    }


def index_content(runtime: Runtime) -> dict[str, Any]:
    """Index the shipped content library; incremental, so an unchanged library embeds nothing."""
    return index_library(runtime.settings).as_dict()


def score_and_segment(runtime: Runtime) -> dict[str, Any]:
    """Train on the sample's outcomes (once), rescore everyone, segment, refresh clusters."""
    models_dir = runtime.settings.var_dir / "models"
    with session_scope(runtime.engine) as session:
        try:
            needs_model = lead_scoring.current_scorer(session).model is None
        except ModelVersionError:  # a model saved by an older nurture: the demo retrains
            needs_model = True
        trained = None
        if needs_model:
            trained = lead_scoring.train_from_store(session, models_dir=models_dir)
    with session_scope(runtime.engine) as session:
        rescored = lead_scoring.rescore_all(session)
        segments = resegment_all(session)
        clusters = refresh_clusters(session).as_dict()
    with session_scope(runtime.engine) as session:
        top = hottest_leads(session, limit=5)
        version = session.get(ModelVersion, rescored["version"])
        metrics = version.metrics if version else {}
    return {
        "model": {
            "version": rescored["version"],
            "newly_trained": trained is not None,
            **{k: metrics.get(k) for k in ("kind", "auc", "top_decile_vs_rest", "rows")},
        },
        "rescored": rescored,
        "segments": segments["segments"],
        "clusters": [{"segment": c["segment"], "size": c["size"]} for c in clusters["clusters"]],
        "top_leads": top,
    }


def store_summary(runtime: Runtime) -> dict[str, Any]:
    with session_scope(runtime.engine) as session:
        return {
            "tables": crud.table_counts(session),
            "event_types": crud.event_type_counts(session),
            "outcomes": crud.outcome_counts(session),
        }


def run_agent(runtime: Runtime, *, limit: int | None = DEMO_AGENT_LEADS) -> dict[str, Any]:
    """The whole loop on the hottest due leads: decide, draft, queue for approval, hand off."""
    with nurture_agent(runtime) as agent:
        resumed = resume_decided(runtime.engine, agent)
        results = agent.run_due(limit=limit)
    counts: dict[str, int] = {}
    for result in results:
        counts[str(result["result"])] = counts.get(str(result["result"]), 0) + 1
    with session_scope(runtime.engine) as session:
        pending = list_approvals(session, status="pending")
        handoffs = session.exec(
            select(Handoff).where(Handoff.status == "pending").order_by(col(Handoff.id))
        ).all()
        handoff = handoff_view(handoffs[0]) if handoffs else None
        return {
            "leads": len(results),
            "results": counts,
            "resumed": len(resumed),
            "pending_approvals": len(pending),
            "pending_handoffs": len(handoffs),
            "approval_example": pending[0] if pending else None,
            "handoff_example": handoff,
        }
