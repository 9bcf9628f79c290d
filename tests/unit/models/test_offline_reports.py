"""The offline model's reports from real tool output: a pipeline summary over a SQLite store,
sequence names, dates and snippets made readable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.tools import tool
from sqlalchemy import Engine

from agent.models import OfflineChatModel
from agent.models.formatting import first_sentence, when
from agent.models.plan import sequence_slug
from store import crud
from store.db import session_scope
from store.models import Lead, LifecycleStage
from tests.unit.models.crm import TODAY, Chat
from tools.bandit.holdout import HoldoutCohort

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def seed(engine: Engine) -> None:
    people = [("a", ["tofu:technology"], True), ("b", ["tofu:technology"], False),
              ("c", ["enterprise"], False)]  # fmt: skip
    for day, (name, segments, mql) in enumerate(people, start=2):
        created = datetime(2026, 11, day, tzinfo=UTC)
        with session_scope(engine) as session:
            lead = Lead(email=f"{name}@acme.example", created_at=created, updated_at=created)
            session.add(lead)
            session.flush()
            assert lead.id is not None
            crud.set_segments(session, lead_id=lead.id, segments=segments)
            if mql:
                crud.advance_lifecycle(
                    session,
                    lead_id=lead.id,
                    stage=LifecycleStage.mql,
                    at=datetime(2026, 11, 9, tzinfo=UTC),
                )


def test_a_real_pipeline_summary_is_read_as_the_numbers_that_matter(
    sqlite_engine: Engine,
) -> None:
    analytics = pytest.importorskip("tools.analytics")
    seed(sqlite_engine)
    seen: dict[str, Any] = {}

    @tool
    def pipeline_summary(
        since: str | None = None, until: str | None = None, segment: str | None = None
    ) -> str:
        """Pipeline numbers for a period."""
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
        with session_scope(sqlite_engine) as session:
            seen.update(
                analytics.pipeline_summary(
                    session, start, None, segment, now=NOW, holdout=HoldoutCohort(0.5, "s")
                )
            )
        return json.dumps(seen, default=str)

    text = (
        Chat(OfflineChatModel(today=TODAY), [pipeline_summary])
        .say("How is the pipeline this month?")
        .text
    )
    totals, conversion = seen["totals"], seen["conversion"]
    assert text.startswith("**Pipeline, since 2026-11-01**")
    assert f"- **In nurture:** {totals['in_nurture']} leads" in text
    assert f"{totals['new_leads']} new" in text and totals["new_leads"] == 3
    assert (
        f"**Lead → MQL:** {conversion['lead_to_mql'] * 100:.1f} % ({totals['mqls']} MQLs)" in text
    )
    assert "13 % benchmark, top quartile 22 %" in text
    assert "- **Hand-offs:** 0 created" in text and "- **Email:** 0 sent" in text
    assert "By segment:" in text
    for row in seen["by_segment"]:
        assert f"- `{row['segment']}`: {row['leads']} leads" in text
    assert "Totals" not in text  # not a dump of every key
    holdout = seen["holdout"]
    assert holdout["nurtured"] + holdout["holdout"] == 3 and holdout["holdout"] > 0
    assert (
        f"- **Nurture vs holdout** (reached SQL or won): 0.0 % of {holdout['nurtured']} nurtured "
        f"leads vs 0.0 % of {holdout['holdout']} held out. Not enough data yet: " in text
    )


def test_sequence_names_are_saved_as_slugs() -> None:
    assert sequence_slug("Fintech security 60") == "fintech-security-60"
    assert sequence_slug("  Post-demo: fast track! ") == "post-demo-fast-track"


def test_with_no_saved_sequences_it_does_not_ask_which() -> None:
    @tool
    def list_sequences() -> str:
        """List saved sequences."""
        return json.dumps({"sequences": []})

    answer = Chat(OfflineChatModel(), [list_sequences]).say("pause a sequence").text
    assert answer == "There are no saved sequences yet. Ask me to design one."


def test_dates_and_snippets_read_well() -> None:
    assert when("2026-11-26T03:30:00+00:00") == "Thu 26 Nov 2026, 03:30 UTC"
    assert when("2026-11-26T09:00") == "Thu 26 Nov 2026, 09:00"
    assert when("tomorrow") == "tomorrow"
    chunk = "## 4. What the fee pays back Our graduates reported a raise within a year. More."
    assert (
        first_sentence(chunk)
        == "What the fee pays back Our graduates reported a raise within a year."
    )
