"""Send due touches once, in a process of its own, over SMTP as the worker's send job does:
`python -m tests.outbox_proc DATABASE_URL VAR_DIR SMTP_PORT NOW`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from agent.outbox import build_outbox
from agent.runtime import Runtime
from agent.settings import Settings
from store.db import make_engine

LEASE_S = 5


def main(url: str, var_dir: str, port: str, now_iso: str) -> None:
    settings = Settings(
        NURTURE_ENV="test",
        NURTURE_VAR_DIR=Path(var_dir),
        NURTURE_OUTBOX="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=int(port),
        SMTP_SECURITY="none",
        NURTURE_SEND_LEASE=LEASE_S,
        NURTURE_DAILY_SEND_CAP=0,
    )
    now = datetime.fromisoformat(now_iso)
    outbox = build_outbox(Runtime(settings=settings, engine=make_engine(url)), clock=lambda: now)
    print(json.dumps(outbox.send_due()), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
