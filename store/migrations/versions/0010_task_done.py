"""delivery tasks: who marked a task done, and when (Slack's Done button, or any other surface)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("delivery_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_by", _str(length=120), nullable=True))
        batch_op.add_column(sa.Column("done_at", _when(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_task", schema=None) as batch_op:
        batch_op.drop_column("done_at")
        batch_op.drop_column("done_by")
