"""The pipeline summary on a small store whose every number is known by construction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent.settings import get_settings
from store import crud
from store.db import session_scope
from store.models import Lead, LifecycleStage, Outcome, OutcomeKind, Touch, TouchStatus
from tools.analytics import (
    AnalyticsError,
    funnel_figure,
    holdout_figure,
    pipeline_summary,
    trend_figure,
)
from tools.bandit.holdout import HoldoutCohort, in_holdout
from tools.handoff import create_handoff, decide_handoff
from tools.sequences import get_sequence, sync_library
from ui.cli_report import app

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def day(month: int, date: int, hour: int = 0) -> datetime:
    return datetime(2026, month, date, hour, tzinfo=UTC)


class Store:
    """Builds the scenario through the real write paths (CRUD, hand-offs)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ids: dict[str, int] = {}
        self.touches = 0

    def lead(self, name: str, created: datetime, segments: list[str], **fields: Any) -> int:
        with session_scope(self.engine) as s:
            row = Lead(
                email=f"{name}@acme.example", created_at=created, updated_at=created, **fields
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            crud.set_segments(s, lead_id=row.id, segments=segments)
            self.ids[name] = row.id
            return row.id

    def stage(self, name: str, stage: LifecycleStage, at: datetime) -> None:
        with session_scope(self.engine) as s:
            crud.advance_lifecycle(s, lead_id=self.ids[name], stage=stage, at=at)

    def enrol(self, name: str, sequence: str, at: datetime) -> int:
        with session_scope(self.engine) as s:
            seq_id = get_sequence(s, sequence).id
            assert seq_id is not None
            row = crud.start_enrollment(s, lead_id=self.ids[name], sequence_id=seq_id, at=at)
            assert row.id is not None
            return row.id

    def touch(self, name: str, enrollment_id: int | None, sent: datetime) -> None:
        self.touches += 1
        with session_scope(self.engine) as s:
            crud.add_touch(
                s,
                touch=Touch(
                    lead_id=self.ids[name],
                    enrollment_id=enrollment_id,
                    channel="email",
                    status=TouchStatus.sent,
                    idempotency_key=f"t-{self.touches}",
                    due_at=sent,
                    sent_at=sent,
                ),
            )

    def event(self, name: str, kind: str, at: datetime) -> None:
        with session_scope(self.engine) as s:
            row = {
                "source_event_id": f"{name}-{kind}-{at.isoformat()}",
                "lead_id": self.ids[name],
                "type": kind,
                "properties": {},
                "occurred_at": at,
            }
            crud.insert_events(s, rows=[row])

    def won(self, name: str, at: datetime, amount: float) -> None:
        with session_scope(self.engine) as s:
            row = {"lead_id": self.ids[name], "kind": "won", "amount": amount, "occurred_at": at}
            crud.add_outcomes(s, rows=[row])

    def handoff(self, name: str, at: datetime) -> int:
        with session_scope(self.engine) as s:
            row = create_handoff(s, lead_id=self.ids[name], reason="asked for a call", now=at)
            assert row.handoff.id is not None
            return row.handoff.id

    def decide(
        self, handoff_id: int, decision: str, at: datetime, reason: str | None = None
    ) -> None:
        with session_scope(self.engine) as s:
            decide_handoff(s, handoff_id, decision, "sdr.maya", reason, now=at)


@pytest.fixture
def store(engine: Engine) -> Store:
    """A: nurtured, MQL, accepted hand-off, won 5,000. B: nurtured, MQL, hand-off rejected late.
    C: enterprise track, engaged by email, never MQL. D: an older SQL that won 3,000 in the
    period without nurture. E: new this month, hand-off still open past its SLA. F: old, idle."""
    with session_scope(engine) as s:
        sync_library(s)
    st = Store(engine)
    st.lead("a", day(11, 2), ["tofu:technology"])
    st.lead("b", day(11, 3), ["tofu:technology"])
    st.lead("c", day(11, 4), ["enterprise", "mofu:data-science"], company_size=900)
    st.lead("d", day(10, 1), ["mofu:data-science"])
    st.lead("e", day(11, 20), ["late:demo"])
    st.lead("f", day(9, 1), ["tofu:unknown"])
    enrolled_a = st.enrol("a", "core", day(11, 2, 9))
    enrolled_b = st.enrol("b", "core", day(11, 3, 9))
    enrolled_c = st.enrol("c", "enterprise", day(11, 4, 9))
    st.touch("a", enrolled_a, day(11, 3, 10))
    st.touch("a", enrolled_a, day(11, 6, 10))
    st.touch("c", enrolled_c, day(11, 5, 10))
    del enrolled_b
    st.event("a", "email_open", day(11, 3, 11))
    st.event("c", "email_open", day(11, 5, 11))
    st.event("c", "email_click", day(11, 5, 12))
    st.event("f", "email_open", day(9, 2, 11))  # before the period
    st.stage("a", LifecycleStage.mql, day(11, 5))
    st.stage("b", LifecycleStage.mql, day(11, 8))
    st.stage("d", LifecycleStage.sql, day(10, 15))
    accepted = st.handoff("a", day(11, 10, 10))  # Tuesday 10:00, due 14:00
    st.decide(accepted, "accepted", day(11, 10, 12))
    rejected = st.handoff("b", day(11, 12, 10))
    st.decide(rejected, "rejected", day(11, 14, 10), "no_budget")
    st.handoff("e", day(11, 20, 10))  # Friday 10:00, due 14:00, still open
    st.won("a", day(11, 20), 5000)
    st.won("d", day(11, 15), 3000)
    return st


def summary(engine: Engine, **kw: Any) -> dict[str, Any]:
    with session_scope(engine) as s:
        return pipeline_summary(s, since=kw.pop("since", SINCE), now=NOW, **kw)


def test_totals_and_conversion(store: Store) -> None:
    report = summary(store.engine)
    totals, conversion = report["totals"], report["conversion"]
    assert totals["new_leads"] == 4  # a, b, c, e
    assert totals["mqls"] == 3  # a, b, and e through its hand-off
    assert totals["sqls"] == 1  # a (d became SQL in October)
    assert totals["won"] == 2 and totals["touches_sent"] == 3 and totals["handoffs"] == 3
    assert totals["in_nurture"] == 3 and report["nurture_basis"] == "enrollments"
    assert conversion["lead_to_mql"] == 0.75
    assert conversion["mql_to_sql"] == round(1 / 3, 3)
    assert conversion["mql_to_sql_vs_benchmark"] == "top quartile"
    assert conversion["sqls_per_1000_in_nurture"] == round(1000 / 3, 1)
    # a: 3 days, b: 5 days, e: 1 day 10 h -> median 3; a went from MQL to SQL in 5.5 days
    assert conversion["median_days_to_mql"] == 3.0
    assert conversion["median_days_mql_to_sql"] == 5.5


def test_periods_in_words(store: Store) -> None:
    with session_scope(store.engine) as s:
        worded = pipeline_summary(s, since="this month", now=NOW)
    assert worded["totals"] == summary(store.engine)["totals"]
    with session_scope(store.engine) as s, pytest.raises(AnalyticsError, match="is not a date"):
        pipeline_summary(s, since="whenever", now=NOW)


def test_handoff_latency_against_the_sla(store: Store) -> None:
    handoffs = summary(store.engine)["handoffs"]
    assert (handoffs["created"], handoffs["accepted"], handoffs["rejected"]) == (3, 1, 1)
    assert handoffs["pending"] == 1 and handoffs["pending_past_sla"] == 1
    assert handoffs["median_latency_hours"] == 25.0  # 2 h and 48 h
    assert handoffs["within_sla"] == round(1 / 3, 3)  # only a's; e's open one is breached


def test_revenue_email_and_sequences(store: Store) -> None:
    report = summary(store.engine)
    revenue = report["revenue"]
    assert revenue["won_amount"] == 8000 and revenue["won_deals"] == 2
    assert revenue["influenced_amount"] == 5000 and revenue["influenced_deals"] == 1
    assert revenue["average_deal_size"] == 4000
    email = report["email"]
    assert (email["emails_sent"], email["opens"], email["clicks"]) == (3, 2, 1)
    assert email["open_rate"] == round(2 / 3, 3) and email["click_to_open"] == 0.5
    sequences = {row["sequence"]: row for row in report["by_sequence"]}
    core = sequences["core"]
    assert (core["enrolled"], core["touches_sent"], core["mqls"], core["sqls"]) == (2, 2, 2, 1)
    assert core["won_amount"] == 5000 and core["close_rate"] == 0.5
    assert core["median_days_to_close"] == pytest.approx(17.6, abs=0.1)  # 11-02 09:00 -> 11-20
    assert sequences["enterprise"]["enrolled"] == 1 and sequences["enterprise"]["mqls"] == 0
    assert sequences["post-demo"]["enrolled"] == 0


def test_a_sequence_counts_the_agents_touches_while_a_lead_runs_in_it(store: Store) -> None:
    store.touch("b", None, day(11, 9, 10))  # the agent's own touch while b runs in core
    store.touch("d", None, day(11, 9, 10))  # d never ran in a sequence
    sequences = {row["sequence"]: row for row in summary(store.engine)["by_sequence"]}
    assert sequences["core"]["touches_sent"] == 3
    assert sequences["enterprise"]["touches_sent"] == 1
    assert summary(store.engine)["email"]["emails_sent"] == 5


def test_breakdown_by_segment_and_segment_filter(store: Store) -> None:
    report = summary(store.engine)
    segments = {row["segment"]: row for row in report["by_segment"]}
    tech = segments["tofu:technology"]
    assert (tech["leads"], tech["new_leads"], tech["mqls"], tech["sqls"]) == (2, 2, 2, 1)
    assert tech["won_amount"] == 5000 and tech["mql_to_sql"] == 0.5
    assert segments["mofu:data-science"]["won_amount"] == 3000
    only = summary(store.engine, segment="tofu:*")
    assert only["totals"]["new_leads"] == 2 and only["revenue"]["won_amount"] == 5000
    assert {row["segment"] for row in only["by_segment"]} == {"tofu:technology", "tofu:unknown"}
    with pytest.raises(AnalyticsError, match="no lead has ever been in segment 'tofu:fintech'"):
        summary(store.engine, segment="tofu:fintech")


def test_weekly_trend_adds_up(store: Store) -> None:
    report = summary(store.engine)
    trend = report["trend"]
    assert datetime.fromisoformat(trend[0]["week_start"]).weekday() == 0
    assert trend[0]["week_start"] <= SINCE.date().isoformat() < trend[1]["week_start"]
    for key, total in (("new_leads", 4), ("mqls", 3), ("sqls", 1), ("handoffs", 3)):
        assert sum(week[key] for week in trend) == total, key
    week_of_sql = next(w for w in trend if w["week_start"] == "2026-11-09")
    assert week_of_sql["sqls"] == 1
    assert sum(week["won_amount"] for week in trend) == 8000


def test_all_time_and_the_charts(store: Store) -> None:
    report = summary(store.engine, since=None)
    assert report["period"]["since"] is None
    assert report["totals"]["new_leads"] == 6 and report["totals"]["sqls"] == 2
    funnel = funnel_figure(report)
    assert list(funnel.data[0].x) == [6, 4, 2, 2]
    trend = trend_figure(report)
    names = {trace.name for trace in trend.data}
    assert {"New leads", "MQLs", "SQLs", "Hand-offs", "Won revenue"} <= names
    assert len(trend.data[0].x) == len(report["trend"]) == 12
    json.dumps(report)  # JSON-ready as is


def test_nurture_against_the_holdout(engine: Engine) -> None:
    """400 leads, a quarter created before the period; nurtured ones convert far more often
    (every third reaches SQL) than held-out ones (every tenth, some only by a won deal)."""
    cohort = HoldoutCohort(share=0.4, salt="pipeline")
    with session_scope(engine) as s:
        rows = [
            Lead(
                email=f"h{i}@acme.example",
                created_at=day(11, 2 + i % 20) if i % 4 else day(10, 5),
                updated_at=day(10, 5),
            )
            for i in range(400)
        ]
        s.add_all(rows)
        s.flush()
        ids = [int(row.id or 0) for row in rows]
        converted: set[int] = set()
        for n, row in enumerate(rows):
            held = in_holdout(ids[n], share=cohort.share, salt=cohort.salt)
            if held and n % 10 == 0:
                s.add(Outcome(lead_id=ids[n], kind=OutcomeKind.won, occurred_at=day(11, 20)))
                converted.add(ids[n])
            elif not held and n % 3 == 0:
                row.lifecycle_stage = LifecycleStage.sql
                row.sql_at = day(11, 22)
                s.add(row)
                converted.add(ids[n])
        for lead_id in ids[::2]:
            crud.set_segments(s, lead_id=lead_id, segments=["tofu:technology"])
    in_period = {ids[n] for n in range(400) if n % 4}

    def expected(members: set[int]) -> tuple[int, int, int, int]:
        held = {i for i in members if in_holdout(i, share=cohort.share, salt=cohort.salt)}
        return (
            len(members - held),
            len((members - held) & converted),
            len(held),
            len(held & converted),
        )

    def figures(report: dict[str, Any]) -> tuple[int, int, int, int]:
        h = report["holdout"]
        return (h["nurtured"], h["nurtured_converted"], h["holdout"], h["holdout_converted"])

    report = summary(engine, holdout=cohort)
    holdout = report["holdout"]
    assert figures(report) == expected(in_period)
    assert holdout["holdout"] >= 50 and holdout["nurtured"] >= 50
    assert holdout["nurtured_rate"] == round(holdout["nurtured_converted"] / holdout["nurtured"], 4)
    low, high = holdout["uplift_ci"]
    assert 0 < low <= holdout["uplift"] <= high  # about 33 % against 10 %
    assert holdout["verdict"] == "nurture_ahead"
    assert holdout["verdict_text"].startswith(
        f"Nurture lifts conversion by +{holdout['uplift'] * 100:.1f}"
    )
    # The segment filter and the period apply to the comparison too.
    only = summary(engine, holdout=cohort, segment="tofu:*")
    assert figures(only) == expected(in_period & set(ids[::2]))
    everyone = summary(engine, holdout=cohort, since=None)
    assert figures(everyone) == expected(set(ids))
    # The chart: both rates with their intervals, the verdict in the title.
    figure = holdout_figure(report)
    assert figure is not None
    bars = figure.data[0]
    assert list(bars.y) == pytest.approx(
        [holdout["nurtured_rate"] * 100, holdout["holdout_rate"] * 100]
    )
    assert bars.error_y.arrayminus[0] == pytest.approx(
        (holdout["nurtured_rate"] - holdout["nurtured_ci"][0]) * 100
    )
    assert holdout["verdict_text"] in figure.layout.title.text
    # Without a holdout cohort there is nothing to compare and no chart.
    assert summary(engine)["holdout"] is None and holdout_figure(summary(engine)) is None
    json.dumps(report)


def test_empty_store_and_bad_periods(engine: Engine) -> None:
    with session_scope(engine) as s:
        empty = pipeline_summary(s, now=NOW)
        assert empty["totals"]["leads"] == 0 and empty["conversion"]["lead_to_mql"] is None
        assert empty["by_sequence"] == [] and len(empty["trend"]) == 12
        with pytest.raises(AnalyticsError, match="must be before until"):
            pipeline_summary(s, since=NOW, until=NOW - timedelta(days=1))


def test_report_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        from agent.runtime import open_runtime

        engine = open_runtime().engine
        with session_scope(engine) as s:
            sync_library(s)
        st = Store(engine)
        st.lead("a", day(11, 2), ["tofu:technology"])
        st.stage("a", LifecycleStage.mql, day(11, 5))
        st.won("a", day(11, 20), 1200)
        out = runner.invoke(
            app, ["pipeline", "--since", "2026-11-01", "--until", "2026-11-30", "--json"]
        )
        assert out.exit_code == 0, out.output
        data = json.loads(out.output)
        assert data["period"]["until"].startswith("2026-12-01")  # --until includes that day
        assert data["totals"]["new_leads"] == 1 and data["revenue"]["won_amount"] == 1200
        assert data["holdout"]["holdout_share"] == 0.05
        assert data["holdout"]["nurtured"] + data["holdout"]["holdout"] == 1
        assert data["holdout"]["verdict"] == "not_enough_data"
        text = runner.invoke(app, ["pipeline", "--since", "2026-11-01", "--segment", "tofu:*"])
        assert text.exit_code == 0, text.output
        assert "lead -> MQL" in text.output and "13 %" in text.output
        assert "tofu:technology" in text.output
        assert "Nurture vs holdout (reached SQL or won" in text.output
        assert "Not enough data yet: " in text.output
        html = tmp_path / "pipeline.html"
        made = runner.invoke(app, ["pipeline", "--html", str(html)])
        assert made.exit_code == 0 and html.stat().st_size > 10_000
        bad = runner.invoke(app, ["pipeline", "--since", "last tuesday"])
        assert bad.exit_code == 1 and "--since: 'last tuesday' is not a date" in bad.output
        unknown = runner.invoke(app, ["pipeline", "--segment", "nope"])
        assert (
            unknown.exit_code == 1 and "no lead has ever been in segment 'nope'" in unknown.output
        )
        engine.dispose()
    finally:
        get_settings.cache_clear()
