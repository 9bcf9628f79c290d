"""The fast whole-store paths give the plain single-lead answers: profiles, scores, workers."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent import ingest
from sample.generate import generate, load_stats, write_sample
from store import crud
from store.db import make_engine, migrate, session_scope
from store.models import Score
from store.schemas import LeadCreate
from tests.conftest import PG_URL
from tools import lead_scoring, profile
from tools.scoring.errors import ScoringError

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def same(a: Any, b: Any) -> bool:
    """Equal, with None and NaN both meaning "no value"."""
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (a, b)]
    return all(missing) if any(missing) else bool(a == b)


def assert_frame_matches_single_leads(session: Any, frame: pd.DataFrame, now: datetime) -> None:
    for lead_id, row in zip(frame.index, frame.to_dict("records"), strict=True):
        single = profile.profile_of(session, lead_id=int(lead_id), now=now)
        wrong = {k: (v, row.get(k)) for k, v in single.items() if k != "id"}
        wrong = {k: pair for k, pair in wrong.items() if not same(*pair)}
        assert not wrong, f"lead {lead_id}: single vs batch {wrong}"


def add_lead(session: Any, email: str, **fields: Any) -> int:
    crud.upsert_leads(session, leads=[LeadCreate(email=email, **fields)])
    lead = crud.get_lead_by_email(session, email=email)
    assert lead is not None and lead.id is not None
    return lead.id


def test_batch_counts_equal_single_lead_counts_at_window_edges(engine: Engine) -> None:
    with session_scope(engine) as s:
        edge = add_lead(s, "edge@a.example", role="VP", company_size=120)
        quiet = add_lead(s, "quiet@a.example")
        busy = add_lead(s, "busy@a.example", attributes={"city": "Pune", "visits": 3})
    moments = {
        "now": NOW,
        "7d": NOW - timedelta(days=7),
        "30d": NOW - timedelta(days=30),
        "48h": NOW - timedelta(hours=48),
        "just_before_7d": NOW - timedelta(days=7, microseconds=1),
        "future": NOW + timedelta(seconds=1),
        "old": NOW - timedelta(days=400),
    }
    kinds = ["pricing_page_view", "demo_request", "page_view", "custom_thing", "email_reply"]
    rows = [
        {
            "source_event_id": f"e-{name}-{kind}",
            "lead_id": edge,
            "type": kind,
            "properties": {},
            "occurred_at": when,
        }
        for name, when in moments.items()
        for kind in kinds
    ]
    rows += [
        {
            "source_event_id": f"b-{i}",
            "lead_id": busy,
            "type": kinds[i % len(kinds)],
            "properties": {},
            "occurred_at": NOW - timedelta(hours=7 * i),
        }
        for i in range(40)
    ]
    ingest.write_events(engine, rows)
    with session_scope(engine) as s:
        frame = profile.profile_frame(s, now=NOW)
        assert frame.loc[quiet, "events_total"] == 0
        # Inclusive window starts; events after `now` are not counted yet.
        assert frame.loc[edge, "events_7d"] == len(kinds) * 3  # now, 7d, 48h
        assert frame.loc[edge, "pricing_page_views_7d"] == 3
        assert frame.loc[edge, "high_intent_48h"] == 3 * 2  # 3 high-intent kinds, now and 48h
        assert frame.loc[edge, "events_total"] == len(kinds) * 6
        assert frame.loc[edge, "days_since_last_event"] == 0
        for now in (NOW, NOW - timedelta(days=3), NOW + timedelta(days=60)):
            batch = profile.profile_frame(s, now=now)
            chunks = pd.concat(list(profile.profile_chunks(s, now=now, chunk_size=2)))
            # A chunk lacks the columns its leads have no value for: compare values, not layout.
            assert list(chunks.index) == list(batch.index)
            pairs = zip(
                batch.index, batch.to_dict("records"), chunks.to_dict("records"), strict=True
            )
            for lead_id, row, other in pairs:
                wrong = {k: (v, other.get(k)) for k, v in row.items() if not same(v, other.get(k))}
                assert not wrong, f"lead {lead_id}: whole vs chunked {wrong}"
            assert_frame_matches_single_leads(s, batch, now)


@pytest.fixture
def sample_store(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    folder = tmp_path / "sample"
    write_sample(generate(load_stats(), n_leads=400, seed=11, now=NOW), folder)
    ingest.import_leads(engine, folder / "leads.csv")
    ingest.import_events(engine, folder / "events.jsonl")
    ingest.import_outcomes(engine, folder / "outcomes.csv")
    yield engine


def test_sample_profiles_batch_equal_single(
    sample_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sample_store) as s:
        frame = profile.profile_frame(s, now=NOW)
        assert frame["events_total"].sum() > 1000
        assert_frame_matches_single_leads(s, frame, NOW)
        monkeypatch.setattr(profile, "IN_LIST_MAX", 150)  # long id lists are read in parts
        ids = [int(i) for i in frame.index[::-1]]
        parts = profile.profile_frame(s, now=NOW, lead_ids=ids)
    assert sorted(parts.index) == sorted(frame.index)
    for lead_id in frame.index[::9]:
        row, other = frame.loc[lead_id].to_dict(), parts.loc[lead_id].to_dict()
        assert all(same(v, other.get(k)) for k, v in row.items()), lead_id


def stored_scores(engine: Engine) -> dict[int, tuple[Any, ...]]:
    with session_scope(engine) as s:
        rows = s.exec(select(Score).order_by(Score.id)).all()  # type: ignore[arg-type]
    return {r.lead_id: (r.score, r.fit, r.behaviour, r.decile, r.model_version) for r in rows}


def test_full_rescore_gives_every_lead_its_single_lead_score(
    sample_store: Engine, tmp_path: Path
) -> None:
    with session_scope(sample_store) as s:
        lead_scoring.train_from_store(s, models_dir=tmp_path / "models", now=NOW)
    with session_scope(sample_store) as s:
        result = lead_scoring.rescore_all(s, now=NOW, chunk_size=37)  # many chunks
    assert result["leads"] == 400
    stored = stored_scores(sample_store)
    with session_scope(sample_store) as s:
        scorer = lead_scoring.current_scorer(s)  # with the population edges just saved
        assert scorer.model is not None and len(scorer.edges) == 9
        for lead_id, (score, fit, behaviour, decile, version) in stored.items():
            lead = profile.profile_of(s, lead_id=lead_id, now=NOW)
            single = lead_scoring.score_record(scorer, lead)
            assert (single["score"], round(single["fit"], 1), round(single["behaviour"], 1)) == (
                score,
                fit,
                behaviour,
            ), lead_id
            assert single["decile"] == decile and version == scorer.version


def test_worker_scores_equal_local_scores_and_a_foreign_view_is_refused(
    sample_store: Engine, tmp_path: Path
) -> None:
    with session_scope(sample_store) as s:
        lead_scoring.train_from_store(s, models_dir=tmp_path / "models", now=NOW)
        scorer = lead_scoring.current_scorer(s)
        chunks = profile.lead_id_ranges(s, chunk_size=150)
        url = lead_scoring._shareable_url(s)
        local = [lead_scoring.score_id_range(s, scorer, NOW, chunk) for chunk in chunks]
    assert [len(c["lead_id"]) for c in local] == [150, 150, 100]
    assert url is not None
    if sample_store.url.get_backend_name() != "sqlite":
        # The fixture picks its schema by connect args; a deployment's URL carries it.
        with sample_store.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    lead_scoring._start_worker(url, scorer, NOW)  # what a spawned worker runs first
    try:
        for chunk, expected in zip(chunks, local, strict=True):
            remote = lead_scoring._score_in_worker(chunk)
            for name, values in expected.items():
                np.testing.assert_array_equal(remote[name], values)
        first, last, planned = chunks[0]
        with pytest.raises(ScoringError, match="expected 151"):
            lead_scoring._score_in_worker((first, last, planned + 1))
    finally:
        lead_scoring._WORKER["engine"].dispose()


def test_rescore_with_workers_equals_rescore_without(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'workers.db'}")
    migrate(engine)
    folder = tmp_path / "sample"
    write_sample(generate(load_stats(), n_leads=600, seed=5, now=NOW), folder)
    ingest.import_leads(engine, folder / "leads.csv")
    ingest.import_events(engine, folder / "events.jsonl")
    with session_scope(engine) as s:
        alone = lead_scoring.rescore_all(s, now=NOW, chunk_size=50)
    first = stored_scores(engine)
    with session_scope(engine) as s:
        # A lead added in this very transaction: workers cannot see it, the caller must.
        extra = add_lead(s, "late@a.example", role="VP", company_size=300)
        shared = lead_scoring.rescore_all(s, now=NOW, chunk_size=50, workers=2)
    second = stored_scores(engine)
    engine.dispose()
    assert shared["leads"] == alone["leads"] + 1 and extra in second
    # Deciles move with the extra lead; scores and axes do not.
    assert {k: v[:3] for k, v in second.items() if k != extra} == {
        k: v[:3] for k, v in first.items()
    }


def test_cli_rescore_takes_a_worker_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from agent.settings import get_settings
    from ui.cli import app

    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NURTURE_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", "")
    folder = tmp_path / "sample"
    write_sample(generate(load_stats(), n_leads=120, seed=2, now=NOW), folder)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["import", "leads", str(folder / "leads.csv")]).exit_code == 0
        done = runner.invoke(app, ["score", "rescore", "--workers", "2", "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.output.strip().splitlines()[-1])["leads"] == 120
        refused = runner.invoke(app, ["score", "rescore", "--workers", "0"])
        assert refused.exit_code == 2 and "--workers" in refused.output
    finally:
        get_settings.cache_clear()
