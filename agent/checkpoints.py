"""The durable checkpointer for agent threads: SQLite beside the app database, or PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg import Connection
from psycopg.rows import dict_row

from agent.settings import Settings


def open_checkpointer(settings: Settings) -> AbstractContextManager[BaseCheckpointSaver]:
    """Paused threads (drafts awaiting approval) survive restarts and resume in any process."""
    return checkpointer_for(settings.resolved_database_url, settings.var_dir)


@contextmanager
def checkpointer_for(url: str, var_dir: Path) -> Iterator[BaseCheckpointSaver]:
    """PostgreSQL when the app database is PostgreSQL, else a SQLite file under `var_dir`."""
    if url.startswith("postgresql"):
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with Connection.connect(
            conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
        ) as conn:
            postgres = PostgresSaver(conn)
            postgres.setup()
            yield postgres
        return
    var_dir.mkdir(parents=True, exist_ok=True)
    # Its own file: checkpoint writes never wait on the app database's write lock.
    lite = sqlite3.connect(var_dir / "checkpoints.db", check_same_thread=False)
    try:
        lite.execute("PRAGMA journal_mode=WAL")
        # As the app database: a commit survives a process crash without an fsync per checkpoint.
        lite.execute("PRAGMA synchronous=NORMAL")
        saver = SqliteSaver(lite)
        saver.setup()
        yield saver
    finally:
        lite.close()
