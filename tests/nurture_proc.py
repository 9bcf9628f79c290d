"""Run or resume one lead's nurture pass in its own process: `python -m tests.nurture_proc`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.checkpoints import checkpointer_for
from agent.nurture.run import NurtureAgent, Verdict
from store.db import make_engine
from tests.nurture_fakes import fake_deps


def main(command: str, url: str, var_dir: str, lead_id: str) -> None:
    engine = make_engine(url)
    with checkpointer_for(url, Path(var_dir)) as saver:
        agent = NurtureAgent(fake_deps(engine, approve_all=True), saver)
        if command == "run":
            out = agent.run_lead(int(lead_id))
        else:
            out = agent.resume(int(lead_id), Verdict(status="approved", by="U-SDR-1"))
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
