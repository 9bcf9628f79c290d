"""The worker: APScheduler with its job store in the app database, jobs with misfire grace and
coalescing, one scheduler per database (a lock file on SQLite, an advisory lock on PostgreSQL),
an event flowing through trigger -> agent -> outbox on its own, and the Slack pass as a job."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, text
from sqlmodel import select

from agent.nurture.run import NurtureAgent
from agent.outbox import send_window
from agent.runtime import Runtime
from agent.settings import Settings
from agent.worker import JOBSTORE_TABLE, ExtraJob, Worker
from agent.worker_lock import PgAdvisoryLock
from store.db import make_engine, migrate, session_scope
from store.models import Touch, TouchStatus, TriggerFiring
from tests.conftest import PG_URL
from tests.nurture_fakes import fake_deps
from tests.slack_stub import BOT_TOKEN, running_stub
from tests.trigger_helpers import add_lead, add_touch, event, minutes_ago, write
from ui.slack.jobs import slack_jobs

BASE_JOBS = {"triggers-due", "send-due", "agent-due"}


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        NURTURE_ENV="test",
        NURTURE_VAR_DIR=tmp_path / "var",
        NURTURE_TRIGGER_INTERVAL=0.2,
        NURTURE_SEND_INTERVAL=0.2,
        NURTURE_AGENT_INTERVAL=0.5,
        NURTURE_MISFIRE_GRACE=30,
        # Any hour, any day: the test must not depend on when it runs.
        NURTURE_SEND_WINDOW_START=clock_time(0, 0),
        NURTURE_SEND_WINDOW_END=clock_time(23, 59, 59),
        NURTURE_SEND_ON_WEEKENDS=True,
        **extra,
    )


def worker_for(runtime: Runtime, extra_jobs: tuple[ExtraJob, ...] = ()) -> Worker:
    deps = fake_deps(
        runtime.engine,
        clock=lambda: datetime.now(UTC),
        window=send_window(runtime.settings),
    )
    agent = NurtureAgent(deps, InMemorySaver())
    return Worker(runtime, agent=agent, extra_jobs=extra_jobs)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_an_event_flows_to_a_sent_email_through_the_scheduled_jobs(
    engine: Engine, tmp_path: Path
) -> None:
    runtime = Runtime(settings=settings_for(tmp_path), engine=engine)
    outbox_dir = runtime.settings.resolved_outbox_dir
    lead = add_lead(engine)
    with worker_for(runtime) as worker:
        assert worker.start()
        write(engine, event(lead, "pricing_page_view", minutes_ago(1), path="/pricing"))
        wait_for(lambda: any(outbox_dir.glob("*.eml")), "an email in the file outbox")
        wait_for(lambda: _fired(engine)[0].status == "done", "the firing to be marked done")
        jobs = {job.id: job for job in worker.scheduler.get_jobs()} if worker.scheduler else {}
        with engine.connect() as conn:
            stored = set(conn.execute(text(f"SELECT id FROM {JOBSTORE_TABLE}")).scalars())
    assert set(jobs) == BASE_JOBS == stored
    for job in jobs.values():
        assert job.coalesce is True and job.misfire_grace_time == 30 and job.max_instances == 1
    [fired] = _fired(engine)
    assert fired.rule == "pricing-interest" and "decision stage" in str(fired.result)
    with session_scope(engine) as s:
        touches = s.exec(select(Touch).where(Touch.lead_id == lead)).all()
    assert [t.status for t in touches].count(TouchStatus.sent) == 1
    assert worker.scheduler is None  # stopped on exit


def stored_job_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(f"SELECT id FROM {JOBSTORE_TABLE}")).scalars())


def test_with_slack_on_the_worker_posts_missing_cards_every_interval(
    engine: Engine, tmp_path: Path
) -> None:
    interval = 1.5
    with running_stub() as (stub, api_url):
        settings = settings_for(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_API_BASE_URL=api_url,
            SLACK_SDR_CHANNEL="C0SDR",
            NURTURE_SLACK_INTERVAL=interval,
        )
        jobs = tuple(slack_jobs(settings))
        assert jobs == (ExtraJob("slack-upkeep", "ui.slack.jobs:slack_pass_job", interval),)
        runtime = Runtime(settings=settings, engine=engine)
        first = add_lead(engine)
        add_touch(engine, first, channel="video", due_at=datetime.now(UTC))

        def cards() -> list[str]:
            return [c.text() for c in stub.of("chat.postMessage")]

        with worker_for(runtime, jobs) as worker:
            assert worker.start()
            # The send job delivers the video as a task; the Slack job posts its card.
            wait_for(lambda: len(cards()) == 1, "the first task card")
            assert "Record a personal video for Ana" in cards()[0]
            assert stored_job_ids(engine) == BASE_JOBS | {"slack-upkeep"}
            second = add_lead(engine, "bo@acme.example", first_name="Bo")
            add_touch(engine, second, channel="sdr_task", due_at=datetime.now(UTC))
            # Within one interval (plus the send job's 0.2 s and some slack for a busy machine).
            wait_for(lambda: len(cards()) == 2, "the second card", seconds=interval + 2.0)
            assert "Reach out to Bo" in cards()[1]
            time.sleep(interval * 1.5)
            assert len(cards()) == 2  # each card once, however many passes run

    # Slack turned off: the next worker drops the stored Slack job before it can run.
    with worker_for(Runtime(settings=settings_for(tmp_path), engine=engine)) as worker:
        assert worker.start()
        assert worker.scheduler is not None
        assert {job.id for job in worker.scheduler.get_jobs()} == BASE_JOBS
        assert stored_job_ids(engine) == BASE_JOBS


def test_run_once_runs_the_slack_pass_after_the_sends(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    with running_stub() as (stub, api_url):
        settings = settings_for(
            tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_BASE_URL=api_url, SLACK_SDR_CHANNEL="C0"
        )
        lead = add_lead(sqlite_engine)
        add_touch(sqlite_engine, lead, channel="video", due_at=datetime.now(UTC))
        runtime = Runtime(settings=settings, engine=sqlite_engine)
        with worker_for(runtime, tuple(slack_jobs(settings))) as worker:
            report = worker.run_once()
    assert report["send"]["sent"] == 1
    assert report["slack-upkeep"] == {"task_cards_posted": 1}
    [card] = stub.of("chat.postMessage")
    assert card.args["channel"] == "C0"


def _fired(engine: Engine) -> list[TriggerFiring]:
    with session_scope(engine) as s:
        return list(s.exec(select(TriggerFiring)))


def test_one_scheduler_per_sqlite_database(sqlite_engine: Engine, tmp_path: Path) -> None:
    runtime = Runtime(settings=settings_for(tmp_path), engine=sqlite_engine)
    with worker_for(runtime) as first, worker_for(runtime) as second:
        assert first.start()
        assert not second.start()  # the lock file beside the database is taken
        first.stop()
        assert second.start()
        second.stop()


def test_run_once_runs_each_job(sqlite_engine: Engine, tmp_path: Path) -> None:
    runtime = Runtime(settings=settings_for(tmp_path), engine=sqlite_engine)
    lead = add_lead(sqlite_engine)
    write(sqlite_engine, event(lead, "demo_request", minutes_ago(1)))
    with worker_for(runtime) as worker:
        report = worker.run_once()
    assert report["triggers"] == {"done": 1}
    assert set(report) == {"triggers", "agent", "send"}


@pytest.fixture
def pg_pair(pg_available: bool) -> Iterator[tuple[Engine, Engine, Engine]]:
    """Two engines on one fresh schema (two worker processes' worth) and an admin engine."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = {"options": f"-csearch_path={schema}"}
    first = make_engine(PG_URL, connect_args=options)
    second = make_engine(PG_URL, connect_args=options)
    migrate(first)
    try:
        yield first, second, admin
    finally:
        first.dispose()
        second.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_an_advisory_lock_elects_one_scheduler_and_a_standby_takes_over(
    pg_pair: tuple[Engine, Engine, Engine], tmp_path: Path
) -> None:
    first_engine, second_engine, admin = pg_pair
    first = worker_for(Runtime(settings=settings_for(tmp_path), engine=first_engine))
    second = worker_for(Runtime(settings=settings_for(tmp_path), engine=second_engine))
    with first, second:
        assert first.start()
        assert not second.start()
        stop = threading.Event()
        standby = second.serve_in_background(stop, retry_s=0.1)
        time.sleep(0.5)
        assert second.scheduler is None  # standing by
        # The leader's database connection dies: it steps down, the standby takes over.
        lock = first.leadership
        assert isinstance(lock, PgAdvisoryLock) and lock._conn is not None
        pid = lock._conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.commit()
        assert not first.leadership.alive()
        first.stop()
        wait_for(lambda: second.scheduler is not None, "the standby to take over", 30)
        stop.set()
        standby.join(timeout=30)
        assert second.scheduler is None  # serve() stops its scheduler when told to
