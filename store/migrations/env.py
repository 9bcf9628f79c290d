"""Alembic environment: runs on the engine the application hands in."""

from alembic import context
from sqlmodel import SQLModel

import store.chat_history  # registers the web chat's tables
import store.models  # noqa: F401  (registers the tables)

# Tables other libraries create and own (the worker's APScheduler job store).
FOREIGN_TABLES = {"apscheduler_jobs"}


def _ours(_object: object, name: str | None, type_: str, *_args: object) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()
