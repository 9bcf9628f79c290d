"""Who runs the scheduler: one process per database. On PostgreSQL a session advisory lock
elects it (another worker stands by and takes over when the holder's connection ends); on
SQLite a lock file beside the database keeps a second process from starting one."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text

# One lock per schema, so databases shared by several installs (or test schemas) do not clash.
PG_LOCK_KEY = "hashtext(current_schema() || :name)"
LOCK_NAME = {"name": "/nurture-worker"}


class Leadership(Protocol):
    def acquire(self) -> bool: ...

    def alive(self) -> bool: ...

    def release(self) -> None: ...

    def describe(self) -> str: ...


class PgAdvisoryLock:
    """A session-level advisory lock held on a dedicated connection for the worker's life."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self._conn.execute(
            text(f"SELECT pg_try_advisory_lock({PG_LOCK_KEY})"), LOCK_NAME
        ).scalar()
        if not got:
            self._close()
        return bool(got)

    def alive(self) -> bool:
        """Still holding it: the connection answers (a dropped connection released the lock)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception:
            self._close()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text(f"SELECT pg_advisory_unlock({PG_LOCK_KEY})"), LOCK_NAME)
            finally:
                self._close()

    def describe(self) -> str:
        return "PostgreSQL advisory lock"

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class FileLock:
    """An exclusive `flock` on a file beside the SQLite database (released when the process
    ends, however it ends)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def alive(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def describe(self) -> str:
        return f"lock file {self.path}"


class NoLock:
    """An in-memory database lives in one process: nothing to elect."""

    def acquire(self) -> bool:
        return True

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def describe(self) -> str:
        return "no lock (in-memory database)"


def leadership_for(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLock(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(Path(f"{database}.worker.lock"))
    return NoLock()
