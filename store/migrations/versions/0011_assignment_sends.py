"""experiment assignments: the draft that carries the variant, and when its touch was sent (a
send is a trial)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("experiment_assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", _when(), nullable=True))
        batch_op.create_foreign_key(
            "fk_experiment_assignment_draft_id_draft", "draft", ["draft_id"], ["id"]
        )
        batch_op.create_index("ix_experiment_assignment_draft_id", ["draft_id"])
    # Assignments made before counted their trial when they were made: mark them counted, so
    # a send of theirs is not counted again.
    op.execute("UPDATE experiment_assignment SET sent_at = assigned_at WHERE sent_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("experiment_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_assignment_draft_id")
        batch_op.drop_constraint("fk_experiment_assignment_draft_id_draft", type_="foreignkey")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("draft_id")
