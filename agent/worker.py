"""`nurture worker`: one APScheduler, its jobs kept in the app database, runs the jobs that act
on triggers, run the agent on due leads and send due touches.

One process per database holds the scheduler (`agent.worker_lock`): two schedulers on one job
store would run every job twice. Jobs coalesce (a backlog of missed runs is one run) and may
start up to NURTURE_MISFIRE_GRACE seconds late (APScheduler's default is 1 s, which would drop
a run whenever the process is briefly busy).

The entry points add jobs of their own layers (`ExtraJob`, e.g. the Slack pass from `ui/`): the
worker knows them only by name, like its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.util import ref_to_obj

from agent import worker_jobs
from agent.nurture.run import NurtureAgent
from agent.outbox import build_outbox
from agent.runtime import Runtime
from agent.trigger_rules import trigger_rules
from agent.triggered import FiringRunner
from agent.worker_lock import Leadership, leadership_for
from store.db import session_scope
from tools.outbox.transports import Transport
from tools.sequences import sync_library

log = logging.getLogger("nurture.worker")
JOBSTORE_TABLE = "apscheduler_jobs"
# (job id, function in the job store, the setting with its interval in seconds)
JOBS = (
    ("triggers-due", "agent.worker_jobs:triggers_due_job", "trigger_interval_s"),
    ("send-due", "agent.worker_jobs:send_due_job", "send_interval_s"),
    ("agent-due", "agent.worker_jobs:agent_due_job", "agent_interval_s"),
)


@dataclass(frozen=True)
class ExtraJob:
    """A job from outside `agent/`: its id, its function as "module:function" (a module
    function that gets the worker's context from `agent.worker_jobs.run_job`), its interval."""

    id: str
    function: str
    interval_s: float

    def __post_init__(self) -> None:
        module, _, name = self.function.partition(":")
        if not module or not name:
            raise ValueError(f"job {self.id!r}: function must read 'module:function'")
        if self.id in {job_id for job_id, _, _ in JOBS}:
            raise ValueError(f"job id {self.id!r} is taken by one of the worker's own jobs")
        if self.interval_s <= 0:
            raise ValueError(f"job {self.id!r}: the interval must be more than 0 seconds")


class Worker:
    """The scheduler and its jobs over one runtime. Use as a context manager."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        agent: NurtureAgent | None = None,
        transport: Transport | None = None,
        clock: Callable[[], datetime] | None = None,
        leadership: Leadership | None = None,
        extra_jobs: Sequence[ExtraJob] = (),
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        ids = [job.id for job in extra_jobs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"two extra jobs share an id: {', '.join(sorted(ids))}")
        self.extra_jobs = tuple(extra_jobs)
        self._agent = agent
        self._transport = transport
        self._clock = clock
        self.leadership = leadership or leadership_for(runtime.engine)
        self.scheduler: BackgroundScheduler | None = None
        self.context: worker_jobs.JobContext | None = None
        self._stack = ExitStack()
        self._lock = threading.RLock()  # start / stop from the serving thread and the owner

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Worker:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Open the agent (model, content index, checkpointer), the outbox and the rules."""
        agent = self._agent
        if agent is None:
            from agent.wiring import nurture_agent  # the model and index load only when needed

            agent = self._stack.enter_context(nurture_agent(self.runtime))
        outbox = build_outbox(self.runtime, transport=self._transport, clock=self._clock)
        runner = FiringRunner(
            engine=self.runtime.engine,
            agent=agent,
            rules=trigger_rules(self.settings),
            clock=outbox.clock,
        )
        self.context = worker_jobs.JobContext(
            engine=self.runtime.engine,
            agent=agent,
            outbox=outbox,
            firings=runner,
            agent_batch=self.settings.agent_batch,
            clock=self._clock,
            runtime=self.runtime,
        )
        with session_scope(self.runtime.engine) as session:
            sync_library(session)  # the shipped sequences, unless stored ones exist

    def close(self) -> None:
        self.stop()
        self._stack.close()
        self.context = None

    # --- one pass, no scheduler ----------------------------------------------------------------

    def run_once(self) -> dict[str, dict[str, Any]]:
        """Each job once, in order: trigger actions, due leads, the sends they queued, then
        the extra jobs (e.g. Slack cards for what the sends delivered)."""
        context = self._require_context()
        report: dict[str, dict[str, Any]] = {
            "triggers": context.act_on_triggers(),
            "agent": context.run_due_leads(),
            "send": context.send_due(),
        }
        if not self.extra_jobs:
            return report
        with self._lock:
            installed = self.scheduler is None
            if installed:  # a running scheduler has installed it already
                worker_jobs.install(context)
            try:
                for job in self.extra_jobs:
                    report[job.id] = ref_to_obj(job.function)()
            finally:
                if installed:
                    worker_jobs.install(None)
        return report

    # --- the scheduler ---------------------------------------------------------------------------

    def start(self) -> bool:
        """Take the lead and start the scheduler; False when another process holds it."""
        with self._lock:
            if self.scheduler is not None:
                return True
            context = self._require_context()
            if not self.leadership.acquire():
                return False
            self.scheduler = self._start_scheduler(context)
        log.info("worker leads the scheduler (%s)", self.leadership.describe())
        return True

    def _start_scheduler(self, context: worker_jobs.JobContext) -> BackgroundScheduler:
        worker_jobs.install(context)
        scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.runtime.engine, tablename=JOBSTORE_TABLE)
            },
            executors={"default": ThreadPoolExecutor(max_workers=len(JOBS) + len(self.extra_jobs))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.settings.misfire_grace_s,
            },
            timezone=UTC,
        )
        wanted = [
            (job_id, function, float(getattr(self.settings, interval)))
            for job_id, function, interval in JOBS
        ]
        wanted += [(job.id, job.function, job.interval_s) for job in self.extra_jobs]
        # Paused until the store holds exactly these jobs: a job stored by an earlier run
        # (Slack's, when Slack has been turned off since) must not run once more.
        scheduler.start(paused=True)
        ids = {job_id for job_id, _, _ in wanted}
        for stored in scheduler.get_jobs():
            if stored.id not in ids:
                log.info("removing the stored job %s (not configured any more)", stored.id)
                scheduler.remove_job(stored.id)
        now = datetime.now(UTC)
        for job_id, function, seconds in wanted:
            scheduler.add_job(
                function,
                "interval",
                seconds=seconds,
                id=job_id,
                name=job_id,
                replace_existing=True,
                next_run_time=now,
            )
        scheduler.resume()
        return scheduler

    def stop(self) -> None:
        with self._lock:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=True)
                self.scheduler = None
                worker_jobs.install(None)
            self.leadership.release()

    def jobs(self) -> list[dict[str, Any]]:
        if self.scheduler is None:
            return []
        return [
            {"id": job.id, "next_run_time": job.next_run_time, "trigger": str(job.trigger)}
            for job in self.scheduler.get_jobs()
        ]

    def serve(
        self,
        stop: threading.Event,
        *,
        retry_s: float = 5.0,
        on_standby: Callable[[str], None] | None = None,
    ) -> None:
        """Lead the scheduler until `stop` is set; stand by while another process leads, and
        step down if the lock is lost (the database connection dropped)."""
        announced = False
        while not stop.is_set():
            if self.scheduler is None:
                if self.start():
                    announced = False
                elif not announced:
                    message = (
                        f"another worker runs the scheduler ({self.leadership.describe()}); "
                        "standing by"
                    )
                    log.info(message)
                    if on_standby is not None:
                        on_standby(message)
                    announced = True
            elif not self.leadership.alive():
                log.warning("worker lost the scheduler lock; stopping its jobs")
                self.stop()
            stop.wait(retry_s)
        self.stop()

    def serve_in_background(
        self, stop: threading.Event, *, retry_s: float = 5.0
    ) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve, args=(stop,), kwargs={"retry_s": retry_s}, daemon=True
        )
        thread.start()
        return thread

    def _require_context(self) -> worker_jobs.JobContext:
        if self.context is None:
            raise RuntimeError("open the worker first (use it as a context manager)")
        return self.context
