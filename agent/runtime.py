"""Wiring: build the store (engine, migrations) from settings once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine

from agent.settings import Settings, get_settings
from store.db import make_engine, migrate


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine


def open_runtime(settings: Settings | None = None, *, migrate_schema: bool = True) -> Runtime:
    """Connect to the configured database and bring its schema up to date."""
    settings = settings or get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    if migrate_schema:
        migrate(engine)
    return Runtime(settings=settings, engine=engine)


@lru_cache
def default_runtime() -> Runtime:
    return open_runtime()
