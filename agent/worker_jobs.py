"""The worker's jobs. The job store keeps them by name (`agent.worker_jobs:send_due_job`), so
they are module functions over the context the running worker installs. Jobs of other layers
(the Slack pass in `ui/`) are module functions too, and reach the context with `run_job`."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from agent.nurture.run import NurtureAgent
from agent.runtime import Runtime
from agent.triggered import FiringRunner
from tools.outbox.send import Outbox

log = logging.getLogger("nurture.worker")


@dataclass
class JobContext:
    engine: Engine
    agent: NurtureAgent
    outbox: Outbox
    firings: FiringRunner
    agent_batch: int = 200
    clock: Callable[[], datetime] | None = None
    runtime: Runtime | None = None  # for jobs that need the settings as well as the store
    # One lead pass at a time: trigger actions and due leads share the agent's threads.
    agent_lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return self.clock() if self.clock is not None else self.outbox.clock()

    def send_due(self) -> dict[str, int]:
        return self.outbox.send_due()

    def act_on_triggers(self) -> dict[str, int]:
        with self.agent_lock:
            return self.firings.run_due()

    def run_due_leads(self) -> dict[str, int]:
        """Due leads, hottest first: new events, wake-up times, sequence steps that came due."""
        results = self.agent.run_due(limit=self.agent_batch, now=self.now(), lock=self.agent_lock)
        return dict(Counter(str(result.get("result") or "ran") for result in results))


_context: JobContext | None = None


def install(context: JobContext | None) -> None:
    global _context
    _context = context


def run_job(name: str, work: Callable[[JobContext], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` over the installed context; a failure is logged and the next run retries."""
    if _context is None:
        log.warning("job %s ran with no worker context installed; skipped", name)
        return {}
    try:
        report = work(_context)
    except Exception:  # logged, and the next run tries again
        log.exception("job %s failed", name)
        return {"error": 1}
    if report:
        log.info("%s: %s", name, ", ".join(f"{k} {v}" for k, v in sorted(report.items())))
    return report


def send_due_job() -> dict[str, Any]:
    return run_job("send-due", JobContext.send_due)


def triggers_due_job() -> dict[str, Any]:
    return run_job("triggers-due", JobContext.act_on_triggers)


def agent_due_job() -> dict[str, Any]:
    return run_job("agent-due", JobContext.run_due_leads)
