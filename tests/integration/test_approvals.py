"""The approval queue and verdicts: first click wins, a lost resume is finished, rules hold."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import select

from agent.approvals import ApprovalError, decide, list_approvals, resume_decided
from agent.nurture.run import NurtureAgent, Verdict
from store import crud
from store.db import session_scope
from store.models import Lead, Touch, TouchStatus
from tests.nurture_fakes import fake_deps
from tools import lead_scoring


def _paused(engine: Engine) -> tuple[NurtureAgent, int, int]:
    with session_scope(engine) as s:
        lead = Lead(email="ravi@acme.example", first_name="Ravi", company="Acme", role="VP Sales")
        s.add(lead)
        s.flush()
        assert lead.id is not None
        lead_id = lead.id
    agent = NurtureAgent(fake_deps(engine, approve_all=True), InMemorySaver())
    out = agent.run_lead(lead_id)
    return agent, lead_id, int(out["approval_id"])


def _touch(engine: Engine, lead_id: int) -> Touch:
    with session_scope(engine) as s:
        return s.exec(select(Touch).where(Touch.lead_id == lead_id)).one()


def test_the_queue_shows_the_lead_and_the_draft(engine: Engine) -> None:
    _, lead_id, approval_id = _paused(engine)
    with session_scope(engine) as s:
        [item] = list_approvals(s)
        assert list_approvals(s, status="approved") == []
    assert item["id"] == approval_id and item["status"] == "pending"
    assert item["lead"]["id"] == lead_id and item["lead"]["name"] == "Ravi"
    assert item["draft"]["subject"] == "Ravi, a quick skills check"
    assert item["draft"]["sources"] == ["https://x-education.example/skills-gap"]
    with session_scope(engine) as s, pytest.raises(ApprovalError, match="status must be"):
        list_approvals(s, status="maybe")


def test_first_verdict_wins_and_the_second_is_told(engine: Engine) -> None:
    agent, lead_id, approval_id = _paused(engine)
    first = decide(engine, agent, approval_id, Verdict(status="approved", by="U1"))
    assert (first.already_decided, first.result) == (False, "scheduled")
    second = decide(engine, agent, approval_id, Verdict(status="rejected", by="U2", reason="x"))
    assert second.already_decided and (second.status, second.decided_by) == ("approved", "U1")
    assert _touch(engine, lead_id).status == TouchStatus.approved


def test_a_verdict_recorded_before_a_crash_is_applied_on_recovery(engine: Engine) -> None:
    agent, lead_id, approval_id = _paused(engine)
    with session_scope(engine) as s:  # the verdict landed, the process died before resuming
        crud.decide_approval(
            s, approval_id=approval_id, status="rejected", decided_by="U1", reason="off-brand"
        )
    assert _touch(engine, lead_id).status == TouchStatus.drafted
    assert resume_decided(engine, agent) == [approval_id]
    touch = _touch(engine, lead_id)
    assert touch.status == TouchStatus.skipped and touch.skip_reason == "rejected: off-brand"
    assert resume_decided(engine, agent) == []


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        (Verdict(status="rejected", by="U1"), "needs a reason"),
        (Verdict(status="edited", by="U1"), "needs a new subject or body"),
        (Verdict(status="maybe", by="U1"), "approved, edited or rejected"),
    ],
)
def test_incomplete_verdicts_are_refused(engine: Engine, verdict: Verdict, message: str) -> None:
    agent, lead_id, approval_id = _paused(engine)
    with pytest.raises(ApprovalError, match=message):
        decide(engine, agent, approval_id, verdict)
    assert _touch(engine, lead_id).status == TouchStatus.drafted


def test_an_unknown_approval_is_a_clear_error(engine: Engine) -> None:
    agent, _, _ = _paused(engine)
    with pytest.raises(ApprovalError, match="no approval with id 999"):
        decide(engine, agent, 999, Verdict(status="approved", by="U1"))


def test_a_card_still_says_why_after_a_batch_rescore(engine: Engine) -> None:
    """A rescore of the whole store keeps no reasons (it must stay fast); the card explains
    the lead's score when it is shown."""
    _, lead_id, _ = _paused(engine)
    with session_scope(engine) as s:
        lead_scoring.rescore_all(s)
    with session_scope(engine) as s:
        latest = crud.latest_score(s, lead_id=lead_id)
        assert latest is not None and latest.factors == []
        [item] = list_approvals(s)
    assert item["lead"]["factors"], item["lead"]
    assert all(isinstance(f, str) and f for f in item["lead"]["factors"])
