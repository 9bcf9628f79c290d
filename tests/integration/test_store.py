"""Store CRUD on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from store import crud
from store.db import alembic_config, migrate, session_scope
from store.models import Draft, Handoff, Lead, LifecycleStage, Score, Sequence, Touch, TouchStatus
from store.schemas import LeadCreate

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _lead(email: str, **kw: object) -> LeadCreate:
    return LeadCreate.model_validate({"email": email, **kw})


def _add_lead(engine: Engine, email: str = "ana@acme.example", **kw: object) -> int:
    with session_scope(engine) as s:
        crud.upsert_leads(s, leads=[_lead(email, **kw)])
        lead = crud.get_lead_by_email(s, email=email)
        assert lead is not None and lead.id is not None
        return lead.id


def test_upsert_inserts_updates_and_leaves_identical_rows_alone(engine: Engine) -> None:
    with session_scope(engine) as s:
        first = crud.upsert_leads(
            s, leads=[_lead("a@x.example", company="A"), _lead("b@x.example", company_size=800)]
        )
    assert first == {"inserted": 2, "updated": 0, "unchanged": 0}
    with session_scope(engine) as s:
        second = crud.upsert_leads(
            s, leads=[_lead("a@x.example", company="A2"), _lead("b@x.example", company_size=800)]
        )
    assert second == {"inserted": 0, "updated": 1, "unchanged": 1}
    with session_scope(engine) as s:
        lead = crud.get_lead_by_email(s, email="A@X.example")
        assert lead is not None and lead.company == "A2"


def test_events_are_idempotent_by_source_id_and_keep_their_time(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    rows = [
        {
            "source_event_id": f"e{i}",
            "lead_id": lead_id,
            "type": "page_view",
            "properties": {"path": f"/p{i}"},
            "occurred_at": T0 + timedelta(hours=i),
        }
        for i in range(3)
    ]
    with session_scope(engine) as s:
        assert crud.insert_events(s, rows=rows) == 3
    with session_scope(engine) as s:
        assert crud.insert_events(s, rows=rows) == 0
        events = crud.list_events(s, lead_id=lead_id, since=T0 + timedelta(hours=1))
    assert [e.source_event_id for e in events] == ["e1", "e2"]
    assert events[0].occurred_at == T0 + timedelta(hours=1)
    assert events[0].properties == {"path": "/p1"}


def test_a_failed_transaction_writes_nothing(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        crud.insert_events(
            s,
            rows=[
                {
                    "source_event_id": "ok",
                    "lead_id": lead_id,
                    "type": "x",
                    "properties": {},
                    "occurred_at": T0,
                }
            ],
        )
        crud.insert_events(
            s,
            rows=[
                {
                    "source_event_id": "bad",
                    "lead_id": 999_999,
                    "type": "x",
                    "properties": {},
                    "occurred_at": T0,
                }
            ],
        )
    with session_scope(engine) as s:
        assert crud.table_counts(s)["events"] == 0


def test_segment_membership_keeps_history(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with session_scope(engine) as s:
        assert crud.set_segments(s, lead_id=lead_id, segments=["tofu_tech", "dormant"]) == {
            "entered": ["dormant", "tofu_tech"],
            "exited": [],
        }
    with session_scope(engine) as s:
        change = crud.set_segments(s, lead_id=lead_id, segments=["tofu_tech", "late_intent"])
        assert change == {"entered": ["late_intent"], "exited": ["dormant"]}
        assert crud.current_segments(s, lead_id=lead_id) == ["late_intent", "tofu_tech"]
        assert crud.table_counts(s)["segment_memberships"] == 3


def test_scores_keep_their_model_version_and_latest_wins(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with session_scope(engine) as s:
        crud.add_score(
            s, score=Score(lead_id=lead_id, score=40, model_version="rules-1", scored_at=T0)
        )
        crud.add_score(
            s,
            score=Score(
                lead_id=lead_id,
                score=81,
                decile=10,
                model_version="gb-2",
                scored_at=T0 + timedelta(days=1),
            ),
        )
    with session_scope(engine) as s:
        latest = crud.latest_score(s, lead_id=lead_id)
        assert latest is not None
        assert (latest.score, latest.model_version, latest.decile) == (81, "gb-2", 10)


def test_one_active_sequence_per_lead(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with session_scope(engine) as s:
        core = crud.save_sequence(s, sequence=Sequence(name="core", definition={"steps": []}))
        ent = crud.save_sequence(s, sequence=Sequence(name="enterprise", definition={"steps": []}))
        assert core.id and ent.id
        first = crud.enroll(s, lead_id=lead_id, sequence_id=core.id)
        assert crud.enroll(s, lead_id=lead_id, sequence_id=core.id).id == first.id
        crud.enroll(s, lead_id=lead_id, sequence_id=ent.id)
    with session_scope(engine) as s:
        rows = s.execute(text("SELECT sequence_id, status FROM enrollment ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(core.id, "exited"), (ent.id, "active")]


def test_touch_idempotency_key_is_unique(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with session_scope(engine) as s:
        touch = crud.add_touch(s, touch=Touch(lead_id=lead_id, idempotency_key="lead1-step1"))
        assert touch.id is not None
        crud.set_touch_status(s, touch_id=touch.id, status=TouchStatus.sent)
    with session_scope(engine) as s:
        stored = s.get(Touch, touch.id)
        assert stored is not None and stored.status == TouchStatus.sent and stored.sent_at
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        crud.add_touch(s, touch=Touch(lead_id=lead_id, idempotency_key="lead1-step1"))


def test_an_approval_is_decided_once(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with session_scope(engine) as s:
        draft = crud.add_draft(
            s, draft=Draft(lead_id=lead_id, subject="Hi", body="Body", sources=[{"title": "Guide"}])
        )
        assert draft.id is not None
        approval = crud.request_approval(s, draft_id=draft.id, thread_id="lead-1")
    assert approval.id is not None
    with session_scope(engine) as s:
        assert crud.decide_approval(s, approval_id=approval.id, status="approved", decided_by="U1")
    with session_scope(engine) as s:
        assert not crud.decide_approval(
            s, approval_id=approval.id, status="rejected", decided_by="U2", reason="late click"
        )
        rows = s.execute(text("SELECT status, decided_by FROM approval")).all()
    assert [tuple(r) for r in rows] == [("approved", "U1")]


def test_suppression_and_consent_gate_every_send(engine: Engine) -> None:
    ok = _add_lead(engine, "ok@x.example")
    no_consent = _add_lead(engine, "nc@x.example", consent="no")
    dne = _add_lead(engine, "dne@x.example", do_not_email="yes")
    unsub = _add_lead(engine, "un@x.example")
    with session_scope(engine) as s:
        assert crud.suppress(s, email="UN@x.example", reason="unsubscribe")
        assert not crud.suppress(s, email="un@x.example", reason="unsubscribe")
        leads = {i: s.get(Lead, i) for i in (ok, no_consent, dne, unsub)}
        allowed = {
            i: lead is not None and crud.may_email(s, lead=lead) for i, lead in leads.items()
        }
    assert allowed == {ok: True, no_consent: False, dne: False, unsub: False}


def test_outcomes_and_handoffs(engine: Engine) -> None:
    lead_id = _add_lead(engine)
    with session_scope(engine) as s:
        rows = [
            {"lead_id": lead_id, "kind": "won", "amount": 4200.0, "occurred_at": T0},
            {"lead_id": lead_id, "kind": "rejected_mql", "reason": "no budget", "occurred_at": T0},
        ]
        assert crud.add_outcomes(s, rows=rows) == 2
        assert crud.add_outcomes(s, rows=rows) == 0
        crud.add_handoff(
            s,
            handoff=Handoff(
                lead_id=lead_id, reason="demo request", sla_due_at=T0 + timedelta(hours=4)
            ),
        )
        assert crud.outcome_counts(s) == {"won": 1, "rejected_mql": 1}
        assert crud.table_counts(s)["handoffs"] == 1


def test_migrations_are_idempotent(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_reimport_never_undoes_an_opt_out_or_a_promotion(engine: Engine) -> None:
    lead_id = _add_lead(engine, "ana@acme.example", company="Acme")
    with session_scope(engine) as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None
        lead.do_not_email, lead.consent, lead.lifecycle_stage = True, False, LifecycleStage.mql
        s.add(lead)
    with session_scope(engine) as s:
        again = crud.upsert_leads(
            s,
            leads=[
                _lead(
                    "ana@acme.example",
                    company="Acme",
                    consent="yes",
                    do_not_email="no",
                    lifecycle_stage="lead",
                )
            ],
        )
    assert again == {"inserted": 0, "updated": 0, "unchanged": 1}
    with session_scope(engine) as s:
        crud.upsert_leads(
            s, leads=[_lead("ana@acme.example", company="Acme", lifecycle_stage="customer")]
        )
        lead = s.get(Lead, lead_id)
        assert lead is not None
        assert (lead.do_not_email, lead.consent, lead.lifecycle_stage) == (True, False, "customer")
