"""Scoring leads in the store: rules before history, a trained model after, live refresh."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from agent import ingest, live
from agent.runtime import Runtime
from agent.settings import Settings
from sample.generate import generate, load_stats, write_sample
from store import crud
from store.db import session_scope
from store.models import Lead, ModelVersion, Score
from tests.servers import serve_asgi
from tools import lead_scoring
from tools.scoring.errors import ScoringError
from ui.http import SIGNATURE_HEADER, create_app, sign

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def sample_store(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A realistic population: 400 synthetic leads with events and closed outcomes."""
    folder = tmp_path / "sample"
    write_sample(generate(load_stats(), n_leads=400, seed=3, now=NOW), folder)
    ingest.import_leads(engine, folder / "leads.csv")
    ingest.import_events(engine, folder / "events.jsonl")
    ingest.import_outcomes(engine, folder / "outcomes.csv")
    yield engine


def latest(engine: Engine, lead_id: int) -> Score | None:
    with session_scope(engine) as s:
        return crud.latest_score(s, lead_id=lead_id)


def test_rules_score_until_a_model_is_trained(sample_store: Engine) -> None:
    with session_scope(sample_store) as s:
        result = lead_scoring.rescore_all(s, now=NOW)
    assert result["version"] == "rules:default" and result["leads"] == 400
    with session_scope(sample_store) as s:
        scores = s.exec(select(Score)).all()
    assert len(scores) == 400
    assert all(0 <= sc.score <= 100 and sc.fit is not None for sc in scores)
    top = [sc for sc in scores if sc.decile == 1]
    assert 30 <= len(top) <= 60  # about a tenth, ties allowing
    assert min(sc.score for sc in top) >= max(sc.score for sc in scores if sc.decile == 10)


def test_training_needs_enough_outcomes(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as s, pytest.raises(ScoringError, match="at least 30 of each"):
        lead_scoring.train_from_store(s, models_dir=tmp_path / "models", now=NOW)


def test_model_trains_on_outcomes_and_scores_carry_its_version(
    sample_store: Engine, tmp_path: Path
) -> None:
    with session_scope(sample_store) as s:
        frame = lead_scoring.training_frame(s, now=NOW)
        assert len(frame) == 280 and set(frame["converted"]) == {0, 1}
        version = lead_scoring.train_from_store(s, models_dir=tmp_path / "models", now=NOW)
    assert version.active and Path(version.path or "").is_dir()
    assert version.metrics["auc"] > 0.7
    excluded = {e["column"] for e in version.metrics["excluded"]}
    assert {"email", "first_name", "unsubscribes", "do_not_email"} <= excluded
    with session_scope(sample_store) as s:
        result = lead_scoring.rescore_all(s, now=NOW)
        assert result["version"] == version.version
        stored = s.get(ModelVersion, version.version)
        assert stored is not None and len(stored.metrics["population_edges"]) == 9
        frame = lead_scoring.training_frame(s, now=NOW)
        scores = {sc.lead_id: sc for sc in s.exec(select(Score))}
    assert {sc.model_version for sc in scores.values()} == {version.version}
    won = [scores[i].score for i in frame.index[frame["converted"] == 1]]
    lost = [scores[i].score for i in frame.index[frame["converted"] == 0]]
    assert sum(won) / len(won) > sum(lost) / len(lost) + 10


def test_a_second_training_replaces_the_active_version(
    sample_store: Engine, tmp_path: Path
) -> None:
    with session_scope(sample_store) as s:
        first = lead_scoring.train_from_store(s, models_dir=tmp_path / "m", now=NOW)
    time.sleep(1.1)  # versions are named to the second
    with session_scope(sample_store) as s:
        second = lead_scoring.train_from_store(s, models_dir=tmp_path / "m", now=NOW)
        active = s.exec(select(ModelVersion).where(col(ModelVersion.active))).all()
    assert first.version != second.version
    assert [row.version for row in active] == [second.version]


def test_live_refresh_scores_explains_and_segments(sample_store: Engine) -> None:
    with session_scope(sample_store) as s:
        lead_scoring.rescore_all(s, now=NOW)  # rules edges
        lead = s.exec(select(Lead).where(col(Lead.do_not_email).is_(False))).first()
        assert lead is not None and lead.id is not None
        lead_id = lead.id
        before = crud.latest_score(s, lead_id=lead_id)
    assert before is not None
    rows = [
        {
            "source_event_id": f"live-{i}",
            "lead_id": lead_id,
            "type": kind,
            "properties": {"path": "/pricing"},
            "occurred_at": NOW - timedelta(hours=1),
        }
        for i, kind in enumerate(["pricing_page_view", "pricing_page_view", "demo_request"])
    ]
    ingest.write_events(sample_store, rows)
    result = live.refresh_leads(sample_store, [lead_id], now=NOW)
    assert result["leads"] == 1
    after = latest(sample_store, lead_id)
    assert after is not None and after.id != before.id
    assert after.behaviour is not None and before.behaviour is not None
    assert after.behaviour > before.behaviour
    assert "late:demo" in result["segments"]["segments"]


def test_mql_rule_promotes_a_lead(engine: Engine) -> None:
    with session_scope(engine) as s:
        crud.upsert_leads(
            s,
            leads=[
                crud.LeadCreate(
                    email="vp@big.example",
                    role="VP",
                    company_size=400,
                    industry="Software",
                    country="United States",
                )
            ],
        )
        lead = crud.get_lead_by_email(s, email="vp@big.example")
        assert lead is not None and lead.id is not None
        lead_id = lead.id
    rows = [
        {
            "source_event_id": f"m-{i}",
            "lead_id": lead_id,
            "type": kind,
            "properties": {},
            "occurred_at": NOW - timedelta(days=1),
        }
        for i, kind in enumerate(
            ["pricing_page_view"] * 3 + ["demo_request", "email_reply", "content_download"]
        )
    ]
    ingest.write_events(engine, rows)
    with session_scope(engine) as s:
        score = lead_scoring.score_leads(s, lead_ids=[lead_id], now=NOW)[0]
        assert score.fit is not None and score.fit >= 60
        assert score.behaviour is not None and score.behaviour >= 40
        stored = s.get(Lead, lead_id)
        assert stored is not None and stored.lifecycle_stage == "mql"


def test_webhook_events_update_the_score_right_after_the_response(
    sample_store: Engine, tmp_path: Path
) -> None:
    secret = "s" * 24
    settings = Settings(NURTURE_VAR_DIR=tmp_path, NURTURE_WEBHOOK_SECRET=secret)
    with session_scope(sample_store) as s:
        lead = s.exec(
            select(Lead).where(
                col(Lead.do_not_email).is_(False),
                col(Lead.consent),
                col(Lead.lifecycle_stage) == "lead",
                col(Lead.email).not_like("%@gmail%"),
            )
        ).first()
        assert lead is not None and lead.id is not None
        email, lead_id = lead.email, lead.id
    body = (
        f'{{"id": "w-1", "lead_email": "{email}", "type": "demo_request", '
        f'"occurred_at": "{datetime.now(UTC).isoformat()}"}}'
    ).encode()
    with serve_asgi(create_app(Runtime(settings=settings, engine=sample_store))) as url:
        response = httpx.post(
            f"{url}/events", content=body, headers={SIGNATURE_HEADER: sign(body, secret)}
        )
        assert response.status_code == 202
        deadline = time.monotonic() + 10
        while latest(sample_store, lead_id) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    score = latest(sample_store, lead_id)
    assert score is not None and score.model_version == "rules:default"
    with session_scope(sample_store) as s:
        assert any(seg.startswith("late:") for seg in crud.current_segments(s, lead_id=lead_id))
