"""experiments: bandit tests of variants, their arms and the touches assigned to each arm

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime
_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _str(length=120), nullable=False),
        sa.Column("segment", _str(length=80), nullable=False),
        sa.Column("dimension", _str(length=24), nullable=False),
        sa.Column("objective", _str(length=16), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("min_trials", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Float(), nullable=False),
        sa.Column("last_verdict", _json, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(
        "uq_experiment_running_segment_dimension",
        "experiment",
        ["segment", "dimension"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "experiment_arm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("value", _str(), nullable=False),
        sa.Column("source", _str(length=16), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("is_control", sa.Boolean(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("trials", sa.Integer(), nullable=False),
        sa.Column("round_added", sa.Integer(), nullable=False),
        sa.Column("won_rounds", sa.Integer(), nullable=False),
        sa.Column("p_best", sa.Float(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("retired_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("experiment_id", "value", name="uq_experiment_arm_value"),
    )
    op.create_index("ix_experiment_arm_experiment_id", "experiment_arm", ["experiment_id"])
    op.create_table(
        "experiment_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("touch_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", _when(), nullable=False),
        sa.Column("rewarded_at", _when(), nullable=True),
        sa.Column("reward_event_id", _str(length=200), nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiment.id"]),
        sa.ForeignKeyConstraint(["arm_id"], ["experiment_arm.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.ForeignKeyConstraint(["touch_id"], ["touch.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("experiment_id", "arm_id", "lead_id", "touch_id"):
        op.create_index(f"ix_experiment_assignment_{column}", "experiment_assignment", [column])


def downgrade() -> None:
    op.drop_table("experiment_assignment")
    op.drop_index("ix_experiment_arm_experiment_id", table_name="experiment_arm")
    op.drop_table("experiment_arm")
    op.drop_index("uq_experiment_running_segment_dimension", table_name="experiment")
    op.drop_table("experiment")
