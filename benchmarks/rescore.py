"""Rescoring speed: a full rescore of 1,000,000 leads from SQLite, and the single-lead live path.

Method (everything in a temporary folder, nothing under var/):

1. Model store. A 2,000-lead synthetic sample (`sample.generate`, seed 7, fixed `now`) is
   written to files and imported into a fresh SQLite database with the product's importers
   (`import_leads`, `import_events`, `import_outcomes`); `train_from_store` trains the model
   (saved under the work folder) and makes it the active version.
2. The big store, in the same database. The sample's leads are the templates: every extra
   lead copies one template's fields and attributes JSON text (new email and external id),
   and 3-5 of that template's events (type, properties JSON and occurred_at text copied
   from the importer's rows, so they are stored exactly as SQLAlchemy's UTCDateTime writes
   them on SQLite, e.g. `2026-06-03 01:27:58.000000`). Rows go in with raw `sqlite3`
   executemany in one transaction, with `journal_mode=WAL` and `synchronous=OFF` for the
   build only. This is setup (reported as `setup_s`), not what is measured.
3. Full rescore, measured in a subprocess so its peak RSS (`ru_maxrss`) is honest: from
   opening the session, through `current_scorer` and `rescore_all(workers=N)` over every
   lead, to the commit. N defaults to the product's default (one process per core, up to
   four); the N-1 spawned workers' start-up is inside the timed span. The subprocess's imports
   are not timed but count towards its peak memory (VmHWM: ru_maxrss would carry over the
   parent's size); the peak reported is its own plus N-1 times the largest worker's (an upper
   bound: they are separate processes). CPU seconds are user + system of the subprocess and
   its workers.
4. Live path, in the same subprocess after the rescore: `agent.live.refresh_leads(engine,
   [id])` (score + segments, explanations for top-decile leads, its own transaction, as
   after a webhook event) for 300 random leads, then `score_leads(session, lead_ids=[id],
   explain_top=False)` in its own `session_scope` for another 300; p50/p99 in ms. A few
   warm-up calls (model load, first queries) are not counted.
5. `--repeat K` measures K times, each on a fresh copy of the built store: the headline is the
   fastest rescore with the median beside it, live figures are medians over the runs, and
   every run is listed with the 1-minute load average before and after it (the machine may
   be shared).

All runs use the same fixed `now` as the sample, so recency windows mean the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = 7
SAMPLE_LEADS = 2_000
NOW = datetime(2026, 6, 1, tzinfo=UTC)
EVENTS_PER_LEAD = (3, 5)  # inclusive range drawn per synthetic lead
LIVE_CALLS = 300
WARMUP_CALLS = 5
# SQLAlchemy's DateTime on SQLite: naive UTC text with microseconds.
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
LEAD_COPY = [
    "first_name", "last_name", "company", "industry", "company_size", "role", "country",
    "timezone", "source", "consent", "do_not_email", "owner", "lifecycle_stage", "attributes",
    "created_at", "updated_at",
]  # fmt: skip
PROJECT = Path(__file__).resolve().parents[1]


# --- setup ---------------------------------------------------------------------------------


def build_model_store(workdir: Path) -> tuple[Path, dict[str, Any]]:
    """Sample -> files -> importers -> trained model. Returns the database path and facts."""
    from agent import ingest
    from sample.generate import generate, load_stats, write_sample
    from store.db import make_engine, migrate, session_scope
    from tools.lead_scoring import train_from_store

    db = workdir / "rescore.db"
    data = generate(load_stats(), n_leads=SAMPLE_LEADS, seed=SEED, now=NOW)
    paths = write_sample(data, workdir / "sample")
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    ingest.import_leads(engine, paths["leads.csv"])
    ingest.import_events(engine, paths["events.jsonl"])
    ingest.import_outcomes(engine, paths["outcomes.csv"])
    with session_scope(engine) as session:
        version = train_from_store(session, models_dir=workdir / "models", now=NOW)
        facts = {"model_version": version.version, "model_kind": version.kind}
    engine.dispose()
    return db, {**facts, "sample_events": len(data.events), "sample_outcomes": len(data.outcomes)}


def _event_rows(
    templates: dict[int, list[tuple[Any, ...]]],
    template_of: list[int],
    first_id: int,
    rng: random.Random,
) -> Iterator[tuple[Any, ...]]:
    low, high = EVENTS_PER_LEAD
    for offset, template in enumerate(template_of):
        lead_id = first_id + offset
        events = templates[template]
        k = min(len(events), rng.randint(low, high))
        picked = sorted(rng.sample(range(len(events)), k))
        for seq, index in enumerate(picked):
            kind, props, occurred, received, source = events[index]
            yield (f"bench-{lead_id}-{seq}", lead_id, kind, props, occurred, received, source)


def grow_store(db: Path, *, n_leads: int, seed: int = SEED) -> dict[str, Any]:
    """Add synthetic leads (copies of the sample's shape) until the store holds `n_leads`."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB page cache for the build
        columns = ", ".join(LEAD_COPY)
        leads = conn.execute(f"SELECT id, {columns} FROM lead ORDER BY id").fetchall()
        events: dict[int, list[tuple[Any, ...]]] = {}
        for lead_id, *rest in conn.execute(
            "SELECT lead_id, type, properties, occurred_at, received_at, source FROM event "
            "ORDER BY lead_id, occurred_at, id"
        ):
            events.setdefault(lead_id, []).append(tuple(rest))
        sample_stamp = next(iter(events.values()))[0][2]
        if not STAMP.match(sample_stamp):  # the importer's format is the one we copy
            raise RuntimeError(f"unexpected occurred_at text {sample_stamp!r}")
        templates = [row for row in leads if row[0] in events]
        existing = len(leads)
        extra = max(0, n_leads - existing)
        first_id = int(conn.execute("SELECT MAX(id) FROM lead").fetchone()[0]) + 1
        rng = random.Random(seed)
        template_of = [rng.randrange(len(templates)) for _ in range(extra)]
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO lead (id, email, external_id, {columns}) "
            f"VALUES (?, ?, ?, {', '.join('?' * len(LEAD_COPY))})",
            (
                (first_id + i, f"bench.{first_id + i}@bench.example", f"BX-{first_id + i:08d}",
                 *templates[t][1:])
                for i, t in enumerate(template_of)
            ),
        )  # fmt: skip
        by_template = {i: events[row[0]] for i, row in enumerate(templates)}
        conn.executemany(
            "INSERT INTO event (source_event_id, lead_id, type, properties, occurred_at, "
            "received_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _event_rows(by_template, template_of, first_id, rng),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA optimize")
        counts = {
            "leads": conn.execute("SELECT COUNT(*) FROM lead").fetchone()[0],
            "events": conn.execute("SELECT COUNT(*) FROM event").fetchone()[0],
        }
    finally:
        conn.close()
    return counts


# --- measurement (runs in its own process) -------------------------------------------------


def _own_peak_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec, so a process
    started by a big parent reports the parent's size at fork; VmHWM starts afresh."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) of this process and of its finished workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "main": own.ru_utime + own.ru_stime,
        "workers": workers.ru_utime + workers.ru_stime,
    }


def _percentiles(samples: list[float]) -> tuple[float, float]:
    import numpy as np

    values = np.asarray(samples) * 1000.0
    return round(float(np.percentile(values, 50)), 2), round(float(np.percentile(values, 99)), 2)


def measure(
    db: Path,
    *,
    chunk_size: int | None = None,
    live_calls: int = LIVE_CALLS,
    profile_to: Path | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Full rescore (timed, peak RSS), then the live single-lead paths. Run in a fresh process."""
    from agent.live import refresh_leads
    from store.db import make_engine, session_scope
    from tools import lead_scoring

    default_chunk = lead_scoring.rescore_all.__kwdefaults__ or {}
    workers = workers or lead_scoring.default_workers()
    engine = make_engine(f"sqlite:///{db}")
    kwargs: dict[str, Any] = {} if chunk_size is None else {"chunk_size": chunk_size}
    profiler = None
    if profile_to is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    load_before = os.getloadavg()[0]
    cpu = _cpu_s()
    started = time.perf_counter()
    with session_scope(engine) as session:
        scorer = lead_scoring.current_scorer(session)
        report = lead_scoring.rescore_all(
            session, scorer=scorer, now=NOW, workers=workers, **kwargs
        )
    elapsed = time.perf_counter() - started
    cpu_s = {name: round(after - before, 2) for (name, after), before in zip(
        _cpu_s().items(), cpu.values(), strict=True)}  # fmt: skip
    if profiler is not None and profile_to is not None:
        profiler.disable()
        profiler.dump_stats(str(profile_to))
    # Workers are separate processes: count each at the largest one's peak (KiB on Linux).
    peak_mb = _own_peak_mb()
    worker_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    leads = int(report["leads"])
    result: dict[str, Any] = {
        "rescore_1m_s": round(elapsed, 2),
        "rescore_1m_peak_mb": round(peak_mb + (workers - 1) * worker_peak_mb, 1),
        "rescore_leads": leads,
        "rescore_leads_per_s": round(leads / elapsed),
        "rescore_cpu_s": round(sum(cpu_s.values()), 2),
        "rescore_cpu_s_by_process": cpu_s,
        "rescore_workers": workers,
        "rescore_main_peak_mb": round(peak_mb, 1),
        "rescore_worker_peak_mb": round(worker_peak_mb, 1) if workers > 1 else None,
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "chunk_size": chunk_size or default_chunk.get("chunk_size"),
        "model_version": report["version"],
        "mqls": report.get("mqls"),
    }
    if live_calls <= 0:
        return result

    with engine.connect() as conn:
        max_id = int(conn.exec_driver_sql("SELECT MAX(id) FROM lead").scalar_one())
    rng = random.Random(SEED)
    picks = [rng.randint(1, max_id) for _ in range(2 * live_calls + 2 * WARMUP_CALLS)]
    refresh_times: list[float] = []
    for index, lead_id in enumerate(picks[: live_calls + WARMUP_CALLS]):
        began = time.perf_counter()
        changed = refresh_leads(engine, [lead_id], now=NOW)
        took = time.perf_counter() - began
        if "error" in changed:
            raise RuntimeError(f"refresh_leads failed for lead {lead_id}: {changed['error']}")
        if index >= WARMUP_CALLS:
            refresh_times.append(took)
    score_times: list[float] = []
    for index, lead_id in enumerate(picks[live_calls + WARMUP_CALLS :]):
        began = time.perf_counter()
        with session_scope(engine) as session:
            lead_scoring.score_leads(session, lead_ids=[lead_id], now=NOW, explain_top=False)
        took = time.perf_counter() - began
        if index >= WARMUP_CALLS:
            score_times.append(took)
    result["live_refresh_p50_ms"], result["live_refresh_p99_ms"] = _percentiles(refresh_times)
    result["live_score_p50_ms"], result["live_score_p99_ms"] = _percentiles(score_times)
    result["live_calls"] = live_calls
    engine.dispose()
    return result


def _measure_in_subprocess(
    db: Path, *, chunk_size: int | None, profile_to: Path | None, workers: int | None
) -> dict:
    command = [sys.executable, "-m", "benchmarks.rescore", "measure", "--db", str(db)]
    if chunk_size is not None:
        command += ["--chunk-size", str(chunk_size)]
    if profile_to is not None:
        command += ["--profile", str(profile_to)]
    if workers is not None:
        command += ["--workers", str(workers)]
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rescore measurement failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- entry point ---------------------------------------------------------------------------


def run(
    *,
    n_leads: int = 1_000_000,
    workdir: Path | None = None,
    chunk_size: int | None = None,
    profile_to: Path | None = None,
    workers: int | None = None,
    repeat: int = 1,
) -> dict[str, Any]:
    """Build the stores, then measure the full rescore and the live path `repeat` times, each
    on a fresh copy of the built store; the headline is the best rescore, with the median."""
    if n_leads < SAMPLE_LEADS:
        raise ValueError(f"n_leads must be at least the {SAMPLE_LEADS:,} sample leads")
    with tempfile.TemporaryDirectory(prefix="nurture-rescore-", dir=workdir) as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        db, facts = build_model_store(folder)
        model_s = time.perf_counter() - began
        grown = time.perf_counter()
        counts = grow_store(db, n_leads=n_leads)
        grow_s = time.perf_counter() - grown
        setup_s = time.perf_counter() - began
        runs = []
        for attempt in range(max(1, repeat)):
            copy = folder / f"measured-{attempt}.db"
            shutil.copyfile(db, copy)  # every run starts from the same store (no earlier scores)
            runs.append(
                _measure_in_subprocess(
                    copy, chunk_size=chunk_size, profile_to=profile_to, workers=workers
                )
            )
            copy.unlink()
    return _summary(runs, counts, facts, setup_s=setup_s, model_s=model_s, grow_s=grow_s)


def _summary(
    runs: list[dict[str, Any]],
    counts: dict[str, Any],
    facts: dict[str, Any],
    *,
    setup_s: float,
    model_s: float,
    grow_s: float,
) -> dict[str, Any]:
    import numpy as np

    best = min(runs, key=lambda r: r["rescore_1m_s"])
    live = [k for k in best if k.startswith("live_") and k != "live_calls"]
    result = {
        "rescore_1m_s": best["rescore_1m_s"],
        "rescore_1m_s_median": round(float(np.median([r["rescore_1m_s"] for r in runs])), 2),
        "rescore_1m_peak_mb": max(r["rescore_1m_peak_mb"] for r in runs),
        "rescore_leads": best["rescore_leads"],
        "rescore_leads_per_s": best["rescore_leads_per_s"],
        "rescore_cpu_s": best["rescore_cpu_s"],
        "rescore_workers": best["rescore_workers"],
        "chunk_size": best["chunk_size"],
        "setup_s": round(setup_s, 1),
        # Live figures: the median over runs of each run's percentile.
        **{k: round(float(np.median([r[k] for r in runs])), 2) for k in live},
        "runs": [
            {
                "rescore_s": r["rescore_1m_s"],
                "cpu_s": r["rescore_cpu_s_by_process"],
                "peak_mb": {
                    "main": r["rescore_main_peak_mb"],
                    "worker": r["rescore_worker_peak_mb"],
                },
                "load_avg_1m_before_after": r["load_avg_1m"],
                **{k: r[k] for k in live},
            }
            for r in runs
        ],
    }
    result["method"] = {
        "store": "SQLite (file in a temp dir)",
        "leads": counts["leads"],
        "events": counts["events"],
        "sample": f"{SAMPLE_LEADS} leads, seed {SEED}, now {NOW.isoformat()}, imported with the "
        "product importers; the rest copy sample leads with 3-5 of their events each",
        "model": facts["model_version"],
        "model_kind": facts["model_kind"],
        "setup_model_s": round(model_s, 1),
        "setup_bulk_s": round(grow_s, 1),
        "timed": "current_scorer + rescore_all(workers=N) + commit, in a fresh subprocess per run "
        "on a fresh copy of the store; N-1 spawned workers share the chunks, their start-up "
        "is timed; cpu = user + system of that process and its workers; peak = its VmHWM "
        "(imports included) + (N-1) x the largest worker's ru_maxrss",
        "live": f"{LIVE_CALLS} random leads each for refresh_leads and score_leads, one "
        f"transaction per call, {WARMUP_CALLS} warm-up calls not counted",
        "runs": len(runs),
        "mqls": best.get("mqls"),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rescore")
    commands = parser.add_subparsers(dest="command", required=True)
    measured = commands.add_parser("measure", help="(internal) time a rescore of an existing db")
    measured.add_argument("--db", type=Path, required=True)
    measured.add_argument("--chunk-size", type=int, default=None)
    measured.add_argument("--live-calls", type=int, default=LIVE_CALLS)
    measured.add_argument("--profile", type=Path, default=None, help="write cProfile stats")
    measured.add_argument("--workers", type=int, default=None, help="default: up to the cores")
    full = commands.add_parser("run", help="build the stores and measure")
    full.add_argument("--leads", type=int, default=1_000_000)
    full.add_argument("--chunk-size", type=int, default=None)
    full.add_argument("--profile", type=Path, default=None, help="write cProfile stats")
    full.add_argument("--workers", type=int, default=None, help="default: up to the cores")
    full.add_argument("--repeat", type=int, default=1, help="measure this many times")
    full.add_argument("--workdir", type=Path, default=None, help="temp data here")
    args = parser.parse_args(argv)
    if args.command == "measure":
        result = measure(
            args.db,
            chunk_size=args.chunk_size,
            live_calls=args.live_calls,
            profile_to=args.profile,
            workers=args.workers,
        )
    else:
        result = run(
            n_leads=args.leads,
            chunk_size=args.chunk_size,
            profile_to=args.profile,
            workers=args.workers,
            repeat=args.repeat,
            workdir=args.workdir,
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
