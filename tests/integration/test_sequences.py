"""Sequences through the store: the shipped library, saving, status, enrolment, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from typer.testing import CliRunner

from agent.settings import get_settings
from store import crud
from store.db import session_scope
from store.models import Enrollment, LifecycleStage
from store.schemas import LeadCreate
from tools.segments.assign import segment_lead
from tools.sequences import (
    SequenceError,
    design_sequence,
    enrol,
    get_sequence,
    list_sequences,
    load_library,
    save_sequence,
    set_status,
    sync_library,
)
from ui.cli_sequence import app

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SHIPPED = ["core", "enterprise", "post-demo", "re-engagement"]


def add_lead(engine: Engine, email: str, **fields: Any) -> int:
    with session_scope(engine) as s:
        crud.upsert_leads(s, leads=[LeadCreate(email=email, **fields)])
        lead = crud.get_lead_by_email(s, email=email)
        assert lead is not None and lead.id is not None
        return lead.id


def add_event(engine: Engine, lead_id: int, kind: str, ago: timedelta, **props: Any) -> None:
    row = {
        "source_event_id": f"s-{lead_id}-{kind}-{ago.total_seconds()}",
        "lead_id": lead_id,
        "type": kind,
        "properties": props,
        "occurred_at": NOW - ago,
    }
    with session_scope(engine) as s:
        crud.insert_events(s, rows=[row])


def resegment_and_enrol(
    engine: Engine, lead_id: int, event_type: str | None = None, now: datetime = NOW
) -> dict[str, Any]:
    with session_scope(engine) as s:
        segment_lead(s, lead_id=lead_id, now=now)
        return enrol(s, lead_id, event_type=event_type, now=now).as_dict()


def active_enrollments(engine: Engine, lead_id: int) -> list[Enrollment]:
    with session_scope(engine) as s:
        stmt = select(Enrollment).where(
            Enrollment.lead_id == lead_id, Enrollment.status == "active"
        )
        return list(s.exec(stmt))


@pytest.fixture
def library(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        sync_library(s)
    return engine


def test_sync_is_idempotent_and_never_clobbers_edits(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert sync_library(s)["added"] == SHIPPED
    with session_scope(engine) as s:
        assert sync_library(s) == {"added": [], "updated": [], "unchanged": SHIPPED, "kept": []}
        core = get_sequence(s, "core")
        edited = {**core.definition, "description": "our own words"}
        save_sequence(s, edited)
        set_status(s, "core", "paused")
    with session_scope(engine) as s:
        report = sync_library(s)
        assert report["kept"] == ["core"]
        assert get_sequence(s, "core").description == "our own words"
    with session_scope(engine) as s:
        assert sync_library(s, overwrite=True)["updated"] == ["core"]
        core = get_sequence(s, "core")
        assert core.description != "our own words" and core.status == "paused"
        assert len(list_sequences(s)) == 4


def test_save_validates_and_resaving_updates_in_place(engine: Engine) -> None:
    proposal = design_sequence("A 30-day nurture for data science leads, book a call")
    with session_scope(engine) as s:
        row = save_sequence(s, proposal)  # a whole proposal: its definition is saved
        first_id = row.id
        assert row.name == proposal["name"] and row.status == "active"
    changed = {**proposal["definition"], "priority": 55}
    with session_scope(engine) as s:
        again = save_sequence(s, changed, status="paused")
        assert again.id == first_id and again.definition["priority"] == 55
        renamed = save_sequence(s, changed, name="data-science-30d")
        assert renamed.id != first_id
        assert [r.name for r in list_sequences(s, status="paused")] == [proposal["name"]]
    broken = {**proposal["definition"], "steps": [{"day": 1, "stage": "later"}]}
    with session_scope(engine) as s, pytest.raises(SequenceError) as info:
        save_sequence(s, broken)
    message = str(info.value)
    assert f"sequence {proposal['name']!r}" in message
    assert "steps[1] (day 1).stage" in message and "steps[1] (day 1).theme" in message


def test_status_changes_and_unknown_names(library: Engine) -> None:
    with session_scope(library) as s:
        assert set_status(s, "enterprise", "archived").status == "archived"
        assert [r.name for r in list_sequences(s, status="archived")] == ["enterprise"]
        with pytest.raises(SequenceError, match="did you mean 'enterprise'"):
            set_status(s, "enterprize", "active")
        with pytest.raises(SequenceError, match="status must be one of active, paused"):
            set_status(s, "core", "stopped")
        with pytest.raises(SequenceError, match="no sequence named 'nope'"):
            get_sequence(s, "nope")


def test_tracks_are_chosen_by_segment(library: Engine) -> None:
    small = add_lead(library, "tofu@acme.example", industry="Technology", company_size=40)
    add_event(library, small, "page_view", timedelta(days=2), path="/")
    big = add_lead(library, "big@bigco.example", industry="Technology", company_size=2000)
    add_event(library, big, "page_view", timedelta(days=2), path="/")
    dormant = add_lead(library, "quiet@acme.example", company_size=2000)
    add_event(library, dormant, "page_view", timedelta(days=120), path="/")
    demo = add_lead(library, "demo@acme.example", company_size=2000)
    add_event(library, demo, "demo_request", timedelta(hours=3))
    assert resegment_and_enrol(library, small)["sequence"] == "core"
    assert resegment_and_enrol(library, big)["sequence"] == "enterprise"
    assert resegment_and_enrol(library, dormant)["sequence"] == "re-engagement"
    assert resegment_and_enrol(library, demo)["sequence"] == "post-demo"
    again = resegment_and_enrol(library, small)
    assert again["action"] == "kept" and again["sequence"] == "core"
    assert len(active_enrollments(library, small)) == 1


def test_leads_move_between_tracks(library: Engine) -> None:
    lead_id = add_lead(library, "mover@acme.example", company_size=40)
    add_event(library, lead_id, "content_download", timedelta(days=5), asset="x")
    assert resegment_and_enrol(library, lead_id)["sequence"] == "core"
    # A demo request: core's exit rule fires and the lead moves to post-demo.
    add_event(library, lead_id, "demo_request", timedelta(minutes=5))
    moved = resegment_and_enrol(library, lead_id, event_type="demo_request")
    assert (moved["action"], moved["previous"], moved["sequence"]) == (
        "moved",
        "core",
        "post-demo",
    )
    with session_scope(library) as s:
        history = crud.enrollment_history(s, lead_id=lead_id)
    assert [(e.status, e.ended_at is not None) for e in history] == [
        ("exited", True),
        ("active", False),
    ]


def test_a_dormant_lead_that_wakes_up_returns_to_its_track(library: Engine) -> None:
    lead_id = add_lead(library, "wakes@acme.example", company_size=900)
    add_event(library, lead_id, "page_view", timedelta(days=100), path="/")
    assert resegment_and_enrol(library, lead_id)["sequence"] == "re-engagement"
    add_event(library, lead_id, "email_click", timedelta(hours=1), url="https://x.example")
    back = resegment_and_enrol(library, lead_id, event_type="email_click")
    assert (back["action"], back["previous"], back["sequence"]) == (
        "moved",
        "re-engagement",
        "enterprise",
    )


def test_out_of_nurture_leads_leave_and_paused_tracks_take_nobody(library: Engine) -> None:
    lead_id = add_lead(library, "leaves@acme.example", company_size=40)
    add_event(library, lead_id, "page_view", timedelta(days=1), path="/")
    assert resegment_and_enrol(library, lead_id)["sequence"] == "core"
    with session_scope(library) as s:
        crud.advance_lifecycle(s, lead_id=lead_id, stage=LifecycleStage.sql, at=NOW)
    out = resegment_and_enrol(library, lead_id)
    assert (out["action"], out["previous"], out["reason"]) == ("exited", "core", "lifecycle sql")
    assert active_enrollments(library, lead_id) == []

    other = add_lead(library, "paused@acme.example", company_size=40)
    add_event(library, other, "page_view", timedelta(days=1), path="/")
    with session_scope(library) as s:
        set_status(s, "core", "paused")
    assert resegment_and_enrol(library, other)["action"] == "none"
    with session_scope(library) as s, pytest.raises(SequenceError, match="is paused"):
        enrol(s, other, sequence="core")
    with session_scope(library) as s:
        named = enrol(s, other, sequence="enterprise", now=NOW)
    assert named.action == "enrolled" and named.sequence == "enterprise"

    optout = add_lead(library, "optout@acme.example", company_size=40, do_not_email=True)
    assert resegment_and_enrol(library, optout)["action"] == "none"


def test_a_designed_sequence_enrols_on_its_event(library: Engine) -> None:
    proposal = design_sequence(
        "A 60-day nurture for fintech leads who downloaded the security pack, book a call"
    )
    with session_scope(library) as s:
        save_sequence(s, proposal, name="fintech-security")
    banker = add_lead(library, "banker@bank.example", industry="Financial Services")
    add_event(library, banker, "page_view", timedelta(days=1), path="/")
    assert resegment_and_enrol(library, banker)["sequence"] == "core"  # no download yet
    add_event(library, banker, "content_download", timedelta(hours=1), asset="security")
    moved = resegment_and_enrol(library, banker, event_type="content_download")
    assert (moved["action"], moved["sequence"]) == ("moved", "fintech-security")
    stays = resegment_and_enrol(library, banker)  # later evaluations keep it there
    assert (stays["action"], stays["sequence"]) == ("kept", "fintech-security")
    with session_scope(library) as s:
        stored = get_sequence(s, "fintech-security").definition
    assert stored["enrol"]["industries"] == ["financial-services"]
    # A download from another industry does not make it a fintech lead.
    maker = add_lead(library, "maker@plant.example", industry="Manufacturing")
    add_event(library, maker, "content_download", timedelta(hours=2), asset="x")
    assert resegment_and_enrol(library, maker, event_type="content_download")["sequence"] == (
        "core"
    )


def test_the_store_allows_one_active_enrollment_per_lead(library: Engine) -> None:
    lead_id = add_lead(library, "one@acme.example")
    with session_scope(library) as s:
        ids = [get_sequence(s, name).id for name in ("core", "enterprise")]
    assert all(ids)
    with session_scope(library) as s:
        crud.start_enrollment(s, lead_id=lead_id, sequence_id=ids[0] or 0, at=NOW)
    with pytest.raises(IntegrityError), session_scope(library) as s:
        crud.start_enrollment(s, lead_id=lead_id, sequence_id=ids[1] or 0, at=NOW)


def test_sequence_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = runner.invoke(app, ["list", "--json"])
        assert listed.exit_code == 0, listed.output
        assert [row["name"] for row in json.loads(listed.output)] == SHIPPED
        text = runner.invoke(app, ["list"])
        assert "core" in text.output and "tofu:*" in text.output

        shown = runner.invoke(app, ["show", "enterprise"])
        assert shown.exit_code == 0, shown.output
        assert "sdr_task" in shown.output and "skills-gap-framework" in shown.output
        detail = json.loads(runner.invoke(app, ["show", "core", "--json"]).output)
        assert detail["touches"] == len(detail["definition"]["steps"]) == 10

        assert runner.invoke(app, ["pause", "core"]).output.strip() == "sequence core is paused"
        paused = json.loads(runner.invoke(app, ["list", "--status", "paused", "--json"]).output)
        assert [row["name"] for row in paused] == ["core"]
        assert "is active" in runner.invoke(app, ["resume", "core"]).output

        source = next(p for p in load_library() if p.name == "core").as_data()
        mine = tmp_path / "mine.yaml"
        mine.write_text(json.dumps({**source, "name": "my-track", "priority": 60}))
        made = runner.invoke(app, ["import", str(mine), "--status", "paused", "--json"])
        assert made.exit_code == 0, made.output
        assert json.loads(made.output)["action"] == "created"
        assert (
            "updated sequence my-track (paused)" in runner.invoke(app, ["import", str(mine)]).output
        )

        bad = tmp_path / "bad.yaml"
        bad.write_text("name: bad\nenrol: {segments: [x]}\nsteps:\n  - {day: 1, stage: nope}\n")
        failed = runner.invoke(app, ["import", str(bad)])
        assert failed.exit_code == 1 and "bad.yaml" in failed.output
        assert "steps[1] (day 1).stage" in failed.output
        assert failed.exception is None or isinstance(failed.exception, SystemExit)

        unknown = runner.invoke(app, ["show", "cor"])
        assert unknown.exit_code == 1 and "did you mean 'core'" in unknown.output
        synced = json.loads(runner.invoke(app, ["sync", "--json"]).output)
        assert synced["unchanged"] == SHIPPED
    finally:
        get_settings.cache_clear()
