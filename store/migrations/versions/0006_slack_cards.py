"""slack cards: where each approval and hand-off was posted in Slack, and its reminders

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "slack_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _str(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("channel", _str(length=32), nullable=True),
        sa.Column("ts", _str(length=32), nullable=True),
        sa.Column("claimed_at", _when(), nullable=False),
        sa.Column("posted_at", _when(), nullable=True),
        sa.Column("reminded_at", _when(), nullable=True),
        sa.Column("escalated_at", _when(), nullable=True),
        sa.Column("closed_at", _when(), nullable=True),
        sa.Column("last_error", _str(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "ref_id", name="uq_slack_card_kind_ref"),
    )


def downgrade() -> None:
    op.drop_table("slack_card")
