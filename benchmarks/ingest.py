"""Ingestion throughput: `nurture import events` and `POST /events` (batches of 500), per database.

Method: a fresh database per backend; 2,000 synthetic leads; events (page views, email opens and
clicks) generated with a fixed seed. The import path is timed in-process from reading the file to
commit. The HTTP path runs `nurture serve` as its own process and one keep-alive client posts
signed batches of 500 back to back; the time covers all requests, validation and commits.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from agent import ingest
from store.db import make_engine, migrate
from ui.http import SIGNATURE_HEADER, sign

SECRET = "bench-secret-0123456789"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_BENCH_DB = "nurture_bench"
TYPES = ["page_view", "email_open", "email_click", "content_download"]


def synthetic_events(n_leads: int, n_events: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    events = []
    for i in range(n_events):
        kind = rng.choice(TYPES)
        props: dict[str, Any] = {"path": f"/courses/{rng.randint(1, 40)}"}
        if kind.startswith("email"):
            props = {"campaign": f"nurture-{rng.randint(1, 12)}"}
        events.append(
            {
                "id": f"{prefix}-{i}",
                "lead_email": f"lead{rng.randrange(n_leads)}@bench.example",
                "type": kind,
                "occurred_at": (start + timedelta(seconds=rng.randint(0, 7_000_000))).isoformat(),
                "properties": props,
            }
        )
    return events


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {PG_BENCH_DB}"))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB


def prepare(url: str, tmp: Path, n_leads: int) -> Any:
    engine = make_engine(url)
    migrate(engine)
    leads = tmp / "leads.csv"
    leads.write_text(
        "email,company\n"
        + "".join(f"lead{i}@bench.example,Company {i % 300}\n" for i in range(n_leads))
    )
    ingest.import_leads(engine, leads)
    return engine


def bench_import(url: str, tmp: Path, n_events: int, n_leads: int) -> float:
    engine = prepare(url, tmp, n_leads)
    path = tmp / "events.jsonl"
    with path.open("w") as fh:
        for item in synthetic_events(n_leads, n_events, seed=1, prefix="imp"):
            fh.write(json.dumps(item) + "\n")
    started = time.perf_counter()
    report = ingest.import_events(engine, path)
    elapsed = time.perf_counter() - started
    assert report.inserted == n_events, report
    engine.dispose()
    return n_events / elapsed


def bench_http(url: str, tmp: Path, n_events: int, n_leads: int, batch: int = 500) -> float:
    prepare(url, tmp, n_leads).dispose()
    events = synthetic_events(n_leads, n_events, seed=2, prefix="http")
    bodies = [json.dumps(events[i : i + batch]).encode() for i in range(0, n_events, batch)]
    with serving(url, tmp) as (client, base):
        started = time.perf_counter()
        accepted = sum(post_signed(client, base, body).json()["accepted"] for body in bodies)
        elapsed = time.perf_counter() - started
    assert accepted == n_events, accepted
    return n_events / elapsed


@contextmanager
def serving(url: str, var_dir: Path) -> Iterator[tuple[httpx.Client, str]]:
    """`nurture serve` over `url` on a free loopback port, as users start it, until exit."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "NURTURE_WEBHOOK_SECRET": SECRET,
        "NURTURE_VAR_DIR": str(var_dir),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=60) as client:
            _wait_healthy(client, base)
            yield client, base
    finally:
        server.terminate()
        server.wait(timeout=30)


def post_signed(client: httpx.Client, base: str, body: bytes) -> httpx.Response:
    """One batch of events to POST /events, signed with the webhook secret."""
    response = client.post(
        f"{base}/events",
        content=body,
        headers={SIGNATURE_HEADER: sign(body, SECRET), "Content-Type": "application/json"},
    )
    response.raise_for_status()
    return response


def _wait_healthy(client: httpx.Client, base: str) -> None:
    deadline = time.monotonic() + 120  # a first start indexes the content library
    while time.monotonic() < deadline:
        try:
            if client.get(f"{base}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("nurture serve did not become healthy")


def run(
    *,
    n_events: int = 50_000,
    n_http_events: int = 20_000,
    n_leads: int = 2_000,
    backends: tuple[str, ...] = ("sqlite", "postgres"),
) -> dict[str, Any]:
    result: dict[str, Any] = {"import_events_per_s": {}, "http_events_per_s": {}}
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url(backend, Path(tmp))
            result["import_events_per_s"][backend] = round(
                bench_import(url, Path(tmp), n_events, n_leads)
            )
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url(backend, Path(tmp))
            result["http_events_per_s"][backend] = round(
                bench_http(url, Path(tmp), n_http_events, n_leads)
            )
    result["method"] = {
        "import_events": n_events,
        "http_events": n_http_events,
        "http_batch": 500,
        "leads": n_leads,
        "cpus": os.cpu_count(),
    }
    return result
