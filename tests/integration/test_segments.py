"""Segments through the store: live assignment, history, batch runs, clusters and the CLI."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from agent import ingest
from sample.generate import generate, load_stats, write_sample
from store import crud
from store.db import session_scope
from store.models import SegmentMembership
from store.schemas import LeadCreate
from tools.segments.assign import resegment_all, segment_lead
from tools.segments.clusters import FEATURES, refresh_clusters
from tools.segments.membership import membership_history

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def add_lead(engine: Engine, email: str, **fields: Any) -> int:
    with session_scope(engine) as s:
        crud.upsert_leads(s, leads=[LeadCreate(email=email, **fields)])
        lead = crud.get_lead_by_email(s, email=email)
        assert lead is not None and lead.id is not None
        return lead.id


def add_events(engine: Engine, lead_id: int, *events: tuple[str, float, dict[str, Any]]) -> None:
    rows = [
        {
            "source_event_id": f"t-{lead_id}-{kind}-{days_ago}-{i}",
            "lead_id": lead_id,
            "type": kind,
            "properties": props,
            "occurred_at": NOW - timedelta(days=days_ago),
            "source": "test",
        }
        for i, (kind, days_ago, props) in enumerate(events)
    ]
    with session_scope(engine) as s:
        assert crud.insert_events(s, rows=rows) == len(rows)


def segment(engine: Engine, lead_id: int, **kw: Any) -> Any:
    with session_scope(engine) as s:
        return segment_lead(s, lead_id=lead_id, now=kw.pop("now", NOW), **kw)


def history(engine: Engine, lead_id: int) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        return membership_history(s, lead_id=lead_id)


def course_view(course: str) -> dict[str, Any]:
    return {"path": f"/courses/{course}"}


def test_pricing_visitor_moves_to_late_stage_and_history_records_the_exit(
    engine: Engine,
) -> None:
    lead_id = add_lead(engine, "ana@acme.example", industry="Financial Services", company_size=40)
    add_events(engine, lead_id, ("page_view", 20, course_view("data-science")))
    first = segment(engine, lead_id)
    assert first.segments == ["tofu:financial-services"]
    assert first.entered == ["tofu:financial-services"] and first.exited == []

    add_events(engine, lead_id, ("pricing_page_view", 1, {"path": "/pricing"}))
    moved = segment(engine, lead_id)
    assert moved.segments == ["late:pricing"]
    assert (moved.entered, moved.exited) == (["late:pricing"], ["tofu:financial-services"])

    rows = history(engine, lead_id)
    assert [r["segment"] for r in rows] == ["tofu:financial-services", "late:pricing"]
    assert rows[0]["exited_at"] is not None and rows[1]["exited_at"] is None
    # Re-evaluating with nothing new changes nothing and writes no rows.
    again = segment(engine, lead_id)
    assert not again.changed and len(history(engine, lead_id)) == 2
    # A week later the pricing visit is no longer fresh intent: the lead falls back.
    later = segment(engine, lead_id, now=NOW + timedelta(days=8))
    assert later.segments == ["tofu:financial-services"] and later.exited == ["late:pricing"]


def test_lead_silent_for_100_days_is_re_engaged(engine: Engine) -> None:
    lead_id = add_lead(engine, "bo@beta.example", industry="Technology", company_size=900)
    add_events(
        engine,
        lead_id,
        ("page_view", 130, course_view("product-management")),
        ("demo_request", 100, {"path": "/book-a-demo"}),
    )
    result = segment(engine, lead_id)
    assert result.segments == ["enterprise", "re-engage"]
    assert result.rule_segments == ["re-engage", "enterprise"]


def test_engaged_lead_gets_its_course_theme(engine: Engine) -> None:
    lead_id = add_lead(engine, "cy@gamma.example")
    add_events(
        engine,
        lead_id,
        ("page_view", 5, course_view("hr-analytics")),
        ("page_view", 4, course_view("hr-analytics")),
        ("page_view", 4, course_view("data-science")),
        ("content_download", 3, {"asset": "hr-analytics-101"}),
    )
    assert segment(engine, lead_id).segments == ["mofu:hr-analytics"]


def test_unsubscribe_takes_the_lead_out_of_nurture_and_its_clusters(engine: Engine) -> None:
    lead_id = add_lead(engine, "di@delta.example", industry="Media", company_size=800)
    add_events(engine, lead_id, ("trial_signup", 2, {"course": "data-science"}))
    assert segment(engine, lead_id).segments == ["enterprise", "late:trial"]
    with session_scope(engine) as s:  # a cluster refresh put the lead in a cluster
        crud.set_segments(s, lead_id=lead_id, segments=["late:trial", "enterprise", "cluster:x"])
    assert segment(engine, lead_id).segments == ["cluster:x", "enterprise", "late:trial"]

    ingest.write_events(
        engine,
        [
            {
                "source_event_id": "unsub-1",
                "lead_id": lead_id,
                "type": "unsubscribe",
                "properties": {},
                "occurred_at": NOW - timedelta(hours=1),
            }
        ],
    )
    result = segment(engine, lead_id)
    assert result.excluded and result.segments == ["excluded"]
    assert result.exited == ["cluster:x", "enterprise", "late:trial"]


def test_customers_are_excluded(engine: Engine) -> None:
    lead_id = add_lead(engine, "ed@eps.example", lifecycle_stage="customer")
    add_events(engine, lead_id, ("demo_request", 1, {}))
    assert segment(engine, lead_id).segments == ["excluded"]


def test_unknown_lead_raises_key_error(engine: Engine) -> None:
    with pytest.raises(KeyError), session_scope(engine) as s:
        segment_lead(s, lead_id=12345, now=NOW)


# --- a realistic population -------------------------------------------------------------


def populate(engine: Engine, folder: Path, n_leads: int = 400) -> None:
    data = generate(load_stats(), n_leads=n_leads, seed=1, now=NOW)
    paths = write_sample(data, folder)
    ingest.import_leads(engine, paths["leads.csv"])
    ingest.import_events(engine, paths["events.jsonl"])


def open_rows(engine: Engine) -> dict[int, set[str]]:
    with session_scope(engine) as s:
        stmt = select(SegmentMembership.lead_id, SegmentMembership.segment).where(
            col(SegmentMembership.exited_at).is_(None)
        )
        found: dict[int, set[str]] = {}
        for lead_id, name in s.exec(stmt):
            found.setdefault(lead_id, set()).add(name)
        return found


def rules_only(rows: dict[int, set[str]]) -> dict[int, set[str]]:
    return {i: {s for s in names if not s.startswith("cluster:")} for i, names in rows.items()}


def test_batch_run_agrees_with_the_live_path(engine: Engine, tmp_path: Path) -> None:
    populate(engine, tmp_path / "sample", n_leads=150)
    with session_scope(engine) as s:
        result = resegment_all(s, now=NOW, chunk_size=40)  # several chunks
    assert result["leads"] == 150 and result["changed"] == 150
    counts = result["segments"]
    funnel = sum(n for name, n in counts.items() if name != "enterprise")
    assert funnel == 150  # each lead: one funnel segment, or excluded
    assert counts["excluded"] > 0 and counts.get("re-engage", 0) > 0
    assert any(name.startswith("late:") for name in counts)
    stored = open_rows(engine)
    with session_scope(engine) as s:
        for lead_id in list(stored)[:40]:
            live = segment_lead(s, lead_id=lead_id, now=NOW)
            assert not live.changed, (lead_id, live)
            assert set(live.segments) == stored[lead_id]
    with session_scope(engine) as s:
        again = resegment_all(s, now=NOW)
    assert (again["changed"], again["entered"], again["exited"]) == (0, 0, 0)
    assert again["segments"] == counts


def test_clusters_get_distinct_readable_labels_and_leave_rules_alone(
    engine: Engine, tmp_path: Path
) -> None:
    populate(engine, tmp_path / "sample")
    with session_scope(engine) as s:
        resegment_all(s, now=NOW)
    before = open_rows(engine)
    with session_scope(engine) as s:
        refresh = refresh_clusters(s, now=NOW)
    assert 3 <= refresh.k <= 6 and len(refresh.clusters) == refresh.k
    labels = [c.label for c in refresh.clusters]
    assert len(set(labels)) == len(labels)
    phrases = [*FEATURES.values(), "low activity"]
    for info in refresh.clusters:
        assert any(p in info.label for p in phrases), info.label
        assert info.segment == "cluster:" + re.sub(r"[^a-z0-9]+", "-", info.label)
        for feature, z in info.distinguishing.items():
            assert z > 0 and info.means[feature] > refresh.overall_means[feature]
    assert sum(c.size for c in refresh.clusters) == refresh.leads
    assert refresh.leads + refresh.excluded == 400 and refresh.excluded > 0

    after = open_rows(engine)
    assert rules_only(after) == rules_only(before)  # the rule segments are untouched
    sizes = {c.segment: c.size for c in refresh.clusters}
    stored: dict[str, int] = {}
    for lead_id, names in after.items():
        clusters = [n for n in names if n.startswith("cluster:")]
        if "excluded" in names:
            assert clusters == []
        else:
            assert len(clusters) == 1, (lead_id, names)
            stored[clusters[0]] = stored.get(clusters[0], 0) + 1
    assert stored == sizes

    # A rules run keeps the clusters; the same refresh again changes nothing.
    with session_scope(engine) as s:
        assert resegment_all(s, now=NOW)["changed"] == 0
        again = refresh_clusters(s, now=NOW)
    assert (again.entered, again.exited) == (0, 0)
    assert open_rows(engine) == after


# --- the command line ------------------------------------------------------------------


def test_segment_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from agent.runtime import open_runtime
    from agent.settings import get_settings
    from ui.cli_segment import app

    get_settings.cache_clear()
    try:
        populate(open_runtime().engine, tmp_path / "sample", n_leads=120)
        runner = CliRunner()
        result = runner.invoke(app, ["run", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["leads"] == 120 and sum(report["segments"].values()) >= 120

        result = runner.invoke(app, ["run"])
        assert result.exit_code == 0 and "0 changed" in result.stdout

        result = runner.invoke(app, ["clusters", "--json"])
        assert result.exit_code == 0, result.output
        clusters = json.loads(result.stdout)["clusters"]
        assert len({c["label"] for c in clusters}) == len(clusters) >= 3
        result = runner.invoke(app, ["clusters"])
        standout = next(c for c in clusters if c["distinguishing"])
        feature = next(iter(standout["distinguishing"]))
        # What sets a cluster apart, against all leads, in words rather than z-scores.
        assert f"{feature.replace('_', ' ')} {standout['means'][feature]:.1f} on average" in (
            result.stdout
        ), result.stdout

        result = runner.invoke(app, ["show", "1", "--json"])
        assert result.exit_code == 0, result.output
        shown = json.loads(result.stdout)
        assert shown["segments"] and {h["segment"] for h in shown["history"]} >= set(
            shown["segments"]
        )
        result = runner.invoke(app, ["show", "1"])
        assert result.exit_code == 0 and result.stdout.startswith("lead 1: ")
        entered = datetime.fromisoformat(shown["history"][0]["entered_at"])
        # History reads as a date a person scans ("Thu 26 Nov 2026 14:49 UTC"), not an ISO stamp.
        assert f"{entered:%a %d %b %Y %H:%M} UTC -> " in result.stdout

        result = runner.invoke(app, ["show", "99999"])
        assert result.exit_code == 1 and "no lead with id 99999" in result.output

        bad = tmp_path / "bad.yaml"
        bad.write_text("segments:\n  - name: hot\n    when: {field: x, op: bigger, value: 1}\n")
        result = runner.invoke(app, ["run", "--definitions", str(bad)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "segment 'hot': when.op: unknown operator 'bigger'" in result.output
    finally:
        get_settings.cache_clear()
