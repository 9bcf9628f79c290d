"""The demo job: load the synthetic sample into the store and summarise what nurture sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent import ingest
from agent.runtime import Runtime
from sample.generate import ensure_sample
from store import crud
from store.db import session_scope


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


def store_summary(runtime: Runtime) -> dict[str, Any]:
    with session_scope(runtime.engine) as session:
        return {
            "tables": crud.table_counts(session),
            "event_types": crud.event_type_counts(session),
            "outcomes": crud.outcome_counts(session),
        }
