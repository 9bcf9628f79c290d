"""Triggers and sending: events/s through ingestion with the trigger rules, event-to-scheduled-
action latency, and a 60-day simulation of nurture sending to sample leads.

Method (everything in a temporary folder, SQLite, nothing under var/):

1. Ingestion. 2,000 leads (a tenth of them last seen 100 days ago, so the dormancy rule has
   work) and 20,000 fresh events in a mix that fires every event rule (course pages, pricing,
   case studies, email opens and clicks, downloads, demo requests, a few unsubscribes).
   `events_per_s`: batches of 500 validated and written one after another, each in its own
   transaction with the shipped trigger rules, as `POST /events` and `nurture import events`
   do; `events_per_s_without_triggers` is the same run with no rules.
2. Latency over HTTP. `nurture serve` in its own process; one keep-alive client posts signed
   batches of 100 back to back (10,000 events). A request returns after its events and the
   firings they caused are committed, so an event's latency to its scheduled action is its
   request's round trip: `latency_ms` p50 / p99 over the events that fired a rule.
   `http_events_per_s` is that run's rate; it includes the server rescoring each batch's
   leads right after each response (the live scoring path), which is most of its cost.
   `store_latency_ms` is the latency from the store's clocks (firing written minus event
   received).
3. A 60-day simulation. `--sim-leads` sample leads (the seeded synthetic X Education sample)
   with their history, then 60 simulated days in one-hour steps: leads browse, read, ask for
   demos and react to what they are sent (opens, clicks, unsubscribes; a few addresses bounce;
   a few are marked do-not-email by a CRM update rather than an event); events go through
   ingestion with the triggers; each hour the worker's jobs run on the simulated clock
   (trigger actions, sends; due leads every six hours) with the agent's real graph, policy and
   hard rules, a fixed draft in place of the model, the file outbox and a daily cap of 60
   emails. Reported: touches per lead, `cap_violations` (two touches to a lead within the
   4-day gap, or a day over the daily cap; must be 0) and `suppressed_sends` (a touch sent
   after the lead opted out, bounced or was marked do-not-email, or to a lead without consent;
   must be 0). Both counters can see a failure: with the send-time checks switched off, a
   shorter run (40 leads, 20 days, a cap of 5) counted 52 cap violations and 1 suppressed send
   (5 with the stop rule off as well).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

BATCH = 100
IMPORT_BATCH = 500
SIM_START = datetime(2026, 9, 7, 0, 0, tzinfo=UTC)  # a Monday
DAILY_CAP = 60


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- 1 and 2: events through ingestion ----------------------------------------------------------


def fresh_events(n_leads: int, n_events: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """A trigger-rich mix of events that happened in the last hour."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    kinds = [
        ("page_view", 30, lambda: {"path": f"/courses/{rng.choice(COURSES)}"}),
        ("page_view", 15, lambda: {"path": rng.choice(("/", "/blog/salary-guide-2026", "/faq"))}),
        ("page_view", 4, lambda: {"path": "/case-studies/kestrel-health-pm-academy"}),
        ("pricing_page_view", 5, lambda: {"path": "/pricing"}),
        ("email_open", 25, lambda: {"campaign": "welcome"}),
        ("email_click", 8, lambda: {"url": rng.choice(CLICK_URLS)}),
        ("content_download", 10, lambda: {"asset": "data-science-career-guide"}),
        ("demo_request", 2, lambda: {"path": "/book-a-demo"}),
        ("unsubscribe", 1, lambda: {}),
    ]
    weights = [weight for _, weight, _ in kinds]
    events = []
    for i in range(n_events):
        kind, _, props = rng.choices(kinds, weights)[0]
        at = now - timedelta(seconds=rng.randint(0, 3600))
        events.append(
            {
                "id": f"{prefix}-{i}",
                "lead_email": f"lead{rng.randrange(n_leads)}@bench.example",
                "type": kind,
                "occurred_at": at.isoformat(),
                "properties": props(),
            }
        )
    return events


COURSES = ("data-science", "product-management", "business-analytics", "mba-essentials")
CLICK_URLS = (
    "https://www.x-education.example/pricing",
    "https://www.x-education.example/courses/data-science",
    "https://www.x-education.example/blog/how-to-choose-an-online-course",
)


def prepare_store(url: str, tmp: Path, n_leads: int) -> None:
    """Leads, and one old page view for every tenth lead (dormant, 100 days ago)."""
    from agent import ingest
    from store.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    leads = tmp / "leads.csv"
    leads.write_text(
        "email,company,timezone\n"
        + "".join(f"lead{i}@bench.example,Company {i % 300},UTC\n" for i in range(n_leads))
    )
    ingest.import_leads(engine, leads)
    old = datetime.now(UTC) - timedelta(days=100)
    history = [
        (
            i,
            {
                "id": f"old-{i}",
                "lead_email": f"lead{i}@bench.example",
                "type": "page_view",
                "occurred_at": old.isoformat(),
                "properties": {"path": "/"},
            },
        )
        for i in range(0, n_leads, 10)
    ]
    rows, errors = ingest.validate_events(engine, history)
    assert not errors, errors
    ingest.write_events(engine, [row for _, row in rows])
    engine.dispose()


def bench_http(tmp: Path, n_leads: int, n_events: int) -> dict[str, Any]:
    from benchmarks.ingest import post_signed, serving
    from store.db import make_engine, session_scope
    from store.models import TriggerFiring

    url = f"sqlite:///{tmp / 'bench.db'}"
    prepare_store(url, tmp, n_leads)
    events = fresh_events(n_leads, n_events, seed=2, prefix="http")
    round_trip: dict[str, float] = {}
    with serving(url, tmp) as (client, base):
        started = time.perf_counter()
        for start in range(0, n_events, BATCH):
            batch = events[start : start + BATCH]
            sent = time.perf_counter()
            post_signed(client, base, json.dumps(batch).encode())
            took = time.perf_counter() - sent
            round_trip.update({item["id"]: took for item in batch})
        elapsed = time.perf_counter() - started
    engine = make_engine(url)
    with session_scope(engine) as session:
        firings = list(session.exec(select(TriggerFiring)))
    engine.dispose()
    fired = [f for f in firings if f.source_event_id in round_trip]
    latency = [round_trip[str(f.source_event_id)] * 1000 for f in fired]
    in_store = [(f.fired_at - f.received_at).total_seconds() * 1000 for f in fired if f.received_at]
    return {
        "events_per_s": round(n_events / elapsed),
        "latency_ms": {
            "p50": round(_percentile(latency, 0.50), 1),
            "p99": round(_percentile(latency, 0.99), 1),
        },
        "store_latency_ms": {
            "p50": round(_percentile(in_store, 0.50), 1),
            "p99": round(_percentile(in_store, 0.99), 1),
        },
        "firings": dict(Counter(f.rule for f in fired)),
    }


def bench_ingest(tmp: Path, n_leads: int, n_events: int, *, with_rules: bool) -> float:
    """Sustained ingestion in-process: batches of `IMPORT_BATCH` validated and written one after
    another, each in its own transaction with the trigger rules (or none), as the webhook and
    the importer do; events/s over the whole run."""
    from agent import ingest
    from store.db import make_engine
    from tools.triggers.rules import RuleSet, load_rules

    url = f"sqlite:///{tmp / 'ingest.db'}"
    prepare_store(url, tmp, n_leads)
    engine = make_engine(url)
    events = fresh_events(n_leads, n_events, seed=3, prefix="imp")
    rules = load_rules() if with_rules else RuleSet()
    inserted = 0
    started = time.perf_counter()
    for start in range(0, n_events, IMPORT_BATCH):
        batch = list(enumerate(events[start : start + IMPORT_BATCH]))
        rows, errors = ingest.validate_events(engine, batch)
        assert not errors, errors[:3]
        inserted += ingest.write_events(engine, [row for _, row in rows], rules=rules)
    elapsed = time.perf_counter() - started
    assert inserted == n_events
    engine.dispose()
    return n_events / elapsed


# --- 3: the 60-day simulation ------------------------------------------------------------


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _sim_deps(engine: Any, clock: SimClock, settings: Any) -> Any:
    """The agent's graph with the real policy and hard rules; a fixed draft stands in for the
    model and the content index (the guardrails under test come after drafting)."""
    from agent.nurture.deps import NurtureDeps
    from agent.outbox import send_window, sender_of
    from tools.decide import choose_next_action
    from tools.handoff import create_handoff
    from tools.schemas import Snippet

    snippet = Snippet(
        title="Data science career guide",
        url="https://www.x-education.example/resources/data-science-career-guide",
        stage="solution",
        text="A nine-month plan into a data role.",
    )

    def draft(ctx: Any) -> dict[str, Any]:
        video = ctx.action is not None and ctx.action.action == "send_video"
        name = ctx.lead.first_name or "there"
        return {
            "kind": "video_script" if video else "email",
            "content": {"subject": f"{name}, a plan for your next role", "preview": "A plan"},
            "body": f"Hi {name},\n\n{snippet.text}\n",
            "sources": [snippet.url],
            "model": "fixed",
            "prompt_version": "sim",
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": 0.0,
            "guardrail_issues": [],
        }

    def hand_off(session: Any, brief: Any, action: Any) -> int:
        made = create_handoff(
            session, lead_id=brief.lead_id, reason=action.reason, brief=brief, now=clock()
        )
        return int(made.handoff.id or 0)

    return NurtureDeps(
        engine=engine,
        sender=sender_of(settings),
        decide=choose_next_action,
        retrieve=lambda brief, action: [snippet],
        draft=draft,
        hand_off=hand_off,
        needs_approval=lambda brief: False,
        window=send_window(settings),
        clock=clock,
    )


def simulate(tmp: Path, n_leads: int, days: int) -> dict[str, Any]:
    from langgraph.checkpoint.memory import InMemorySaver

    from agent import ingest
    from agent.nurture.run import NurtureAgent, due_lead_ids
    from agent.outbox import build_outbox
    from agent.runtime import open_runtime
    from agent.settings import Settings
    from agent.triggered import FiringRunner
    from sample.generate import generate, load_stats, write_sample
    from store.db import session_scope
    from store.models import Event, Lead, OutboxMessage, Touch, TouchStatus, TriggerFiring
    from tools import lead_scoring
    from tools.segments.assign import resegment_all
    from tools.sequences import sync_library
    from tools.triggers.rules import load_rules

    settings = Settings(
        NURTURE_ENV="test",
        NURTURE_VAR_DIR=tmp / "var",
        NURTURE_DAILY_SEND_CAP=DAILY_CAP,
        NURTURE_BUSINESS_TIMEZONE="UTC",
    )
    runtime = open_runtime(settings)
    engine = runtime.engine
    data = generate(load_stats(), n_leads=n_leads, seed=7, now=SIM_START)
    paths = write_sample(data, tmp / "sample")
    ingest.import_leads(engine, paths["leads.csv"])
    records = [(i, json.loads(line)) for i, line in enumerate(paths["events.jsonl"].open())]
    rows, errors = ingest.validate_events(engine, records)
    assert not errors, errors[:3]
    # History arrived before the simulation starts (leads with events since their last pass
    # are due, by the time the events were received).
    history = [{**row, "received_at": SIM_START} for _, row in rows]
    ingest.write_events(engine, history, now=SIM_START)
    with session_scope(engine) as session:
        lead_scoring.rescore_all(session, now=SIM_START)
        resegment_all(session, now=SIM_START)
        sync_library(session)
        lead_ids = [int(i) for i in session.exec(select(col(Lead.id))) if i is not None]

    clock = SimClock(SIM_START)
    agent = NurtureAgent(_sim_deps(engine, clock, settings), InMemorySaver())
    outbox = build_outbox(runtime, clock=clock)
    runner = FiringRunner(engine=engine, agent=agent, rules=load_rules(), clock=clock)
    rng = random.Random(11)
    bad_address = set(rng.sample(lead_ids, max(1, n_leads // 50)))
    pending: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    counter = iter(range(10**9))
    # Opt-outs that arrive as a CRM update, not as an event: only the checks see them.
    crm_opt_out: dict[int, datetime] = {}
    reports: Counter[str] = Counter()

    def later(lead_id: int, kind: str, at: datetime, **props: Any) -> None:
        hour = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        pending[hour].append(
            {
                "source_event_id": f"sim-{next(counter)}",
                "lead_id": lead_id,
                "type": kind,
                "properties": props,
                "occurred_at": at,
                "received_at": hour,
                "source": "sim",
            }
        )

    started = time.perf_counter()
    for hour in range(days * 24):
        clock.now = SIM_START + timedelta(hours=hour)
        if clock.now.hour == 0:
            for lead_id in lead_ids:  # the day's own browsing
                _browse(rng, lead_id, clock.now, later)
        if clock.now.hour == 12:
            _crm_opt_outs(engine, rng, lead_ids, clock.now, crm_opt_out)
        arrived = pending.pop(clock.now, [])
        if arrived:
            ingest.write_events(engine, arrived, now=clock.now)
        reports.update(f"trigger {k}" for k, v in runner.run_due().items() for _ in range(v))
        if hour % 6 == 0:
            with session_scope(engine) as session:
                due = due_lead_ids(session, now=clock.now, limit=n_leads)
            for lead_id in due:
                try:
                    agent.run_lead(lead_id)
                except Exception:
                    reports["agent failures"] += 1
        before = clock.now
        sent = outbox.send_due()
        reports.update({f"send {k}": v for k, v in sent.items()})
        if sent.get("sent"):
            with session_scope(engine) as session:
                just_sent = session.exec(
                    select(Touch.lead_id, Touch.channel).where(
                        Touch.status == TouchStatus.sent, Touch.sent_at == before
                    )
                ).all()
            for lead_id, channel in just_sent:
                _react(rng, int(lead_id), channel, before, lead_id in bad_address, later)
    elapsed = time.perf_counter() - started

    with session_scope(engine) as session:
        sends = session.exec(
            select(Touch.lead_id, Touch.sent_at, Touch.channel).where(
                Touch.status == TouchStatus.sent, col(Touch.sent_at) >= SIM_START
            )
        ).all()
        opt_out: dict[int, datetime] = dict(crm_opt_out)
        for lead_id, at in session.exec(
            select(Event.lead_id, Event.occurred_at).where(
                col(Event.type).in_(["unsubscribe", "bounce"])
            )
        ):
            opt_out[lead_id] = min(at, opt_out.get(lead_id, at))
        never = {
            int(lead.id or 0)
            for lead in session.exec(select(Lead))
            if not lead.consent or (lead.do_not_email and lead.id not in opt_out)
        }
        emails_per_day = Counter(
            sent_at.date()
            for sent_at, channel in session.exec(
                select(OutboxMessage.sent_at, OutboxMessage.channel).where(
                    OutboxMessage.status == "sent"
                )
            )
            if sent_at is not None and channel == "email"
        )
        deferred = session.exec(select(OutboxMessage)).all()
        fired_rules = Counter(session.exec(select(TriggerFiring.rule)).all())
    by_lead: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, sent_at, _ in sends:
        if sent_at is not None:
            by_lead[int(lead_id)].append(sent_at)
    gap = timedelta(days=settings.min_gap_days)
    too_close = sum(
        1
        for times in by_lead.values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
        if b - a < gap
    )
    over_cap = sum(1 for n in emails_per_day.values() if n > DAILY_CAP)
    suppressed = sum(
        1
        for lead_id, sent_at, _ in sends
        if sent_at is not None
        and (lead_id in never or (lead_id in opt_out and sent_at >= opt_out[lead_id]))
    )
    per_lead = [len(by_lead.get(lead_id, [])) for lead_id in lead_ids]
    return {
        "cap_violations": too_close + over_cap,
        "suppressed_sends": suppressed,
        "simulation": {
            "leads": n_leads,
            "days": days,
            "touches_sent": len(sends),
            "touches_per_lead": {
                "mean": round(statistics.mean(per_lead), 2),
                "p50": _percentile([float(n) for n in per_lead], 0.5),
                "max": max(per_lead),
            },
            "touches_per_lead_reached": round(
                statistics.mean([n for n in per_lead if n] or [0]), 2
            ),
            "leads_opted_out": len(opt_out),
            "leads_never_emailable": len(never),
            "emails_max_per_day": max(emails_per_day.values(), default=0),
            "daily_cap": DAILY_CAP,
            "sends_deferred_at_least_once": sum(1 for row in deferred if row.deferrals),
            "channels": dict(Counter(channel for _, _, channel in sends)),
            "firings": dict(sorted(fired_rules.items())),
            "events": dict(sorted(reports.items())),
            "wall_s": round(elapsed, 1),
        },
    }


def _browse(rng: random.Random, lead_id: int, day: datetime, later: Any) -> None:
    """A lead's own activity on one day (most days: nothing)."""
    if rng.random() > 0.12:
        return
    at = day + timedelta(hours=rng.randint(8, 20), minutes=rng.randint(0, 59))
    roll = rng.random()
    if roll < 0.55:
        for step in range(rng.randint(1, 3)):
            path = f"/courses/{rng.choice(COURSES)}"
            later(lead_id, "page_view", at + timedelta(minutes=step), path=path)
    elif roll < 0.70:
        later(lead_id, "pricing_page_view", at, path="/pricing")
    elif roll < 0.80:
        later(lead_id, "page_view", at, path="/case-studies/from-operations-to-data-science")
    elif roll < 0.93:
        later(lead_id, "content_download", at, asset="data-science-career-guide")
    else:
        later(lead_id, "demo_request", at, path="/book-a-demo")


def _crm_opt_outs(
    engine: Any, rng: random.Random, lead_ids: list[int], now: datetime, seen: dict[int, datetime]
) -> None:
    """A few leads a day are marked do-not-email in the CRM (a sync, not an event)."""
    from store.db import session_scope
    from store.models import Lead

    picked = [i for i in lead_ids if i not in seen and rng.random() < 0.004]
    with session_scope(engine) as session:
        for lead_id in picked:
            lead = session.get(Lead, lead_id)
            if lead is not None and not lead.do_not_email:
                lead.do_not_email = True
                session.add(lead)
                seen[lead_id] = now


def _react(
    rng: random.Random, lead_id: int, channel: str, at: datetime, bad: bool, later: Any
) -> None:
    """What a lead does with a touch: a bad address bounces, most ignore it, some open and
    click, a few unsubscribe."""
    if channel != "email":
        return
    if bad:
        later(lead_id, "bounce", at + timedelta(minutes=5))
        return
    if rng.random() < 0.30:
        opened = at + timedelta(hours=rng.randint(1, 30))
        later(lead_id, "email_open", opened)
        if rng.random() < 0.15:
            later(lead_id, "email_click", opened + timedelta(minutes=2), url=rng.choice(CLICK_URLS))
    if rng.random() < 0.01:
        later(lead_id, "unsubscribe", at + timedelta(hours=rng.randint(1, 48)))


def run(
    *,
    n_leads: int = 2_000,
    n_events: int = 20_000,
    n_http_events: int = 10_000,
    sim_leads: int = 100,
    days: int = 60,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        with_rules = bench_ingest(Path(tmp), n_leads, n_events, with_rules=True)
    with tempfile.TemporaryDirectory() as tmp:
        without = bench_ingest(Path(tmp), n_leads, n_events, with_rules=False)
    with tempfile.TemporaryDirectory() as tmp:
        http = bench_http(Path(tmp), n_leads, n_http_events)
    with tempfile.TemporaryDirectory() as tmp:
        sim = simulate(Path(tmp), sim_leads, days)
    return {
        "events_per_s": round(with_rules),
        "latency_ms": http["latency_ms"],
        "cap_violations": sim["cap_violations"],
        "suppressed_sends": sim["suppressed_sends"],
        "events_per_s_without_triggers": round(without),
        "http_events_per_s": http["events_per_s"],
        "store_latency_ms": http["store_latency_ms"],
        "firings": http["firings"],
        "simulation": sim["simulation"],
        "method": {
            "database": "sqlite",
            "leads": n_leads,
            "ingest_events": n_events,
            "ingest_batch": IMPORT_BATCH,
            "http_events": n_http_events,
            "http_batch": BATCH,
            "cpus": os.cpu_count(),
            "measured_at": datetime.now(UTC).isoformat(timespec="minutes"),
        },
    }
