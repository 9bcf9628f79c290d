"""funnel timing on leads; hand-off rule, details, decision latency; one open hand-off and one
active enrollment per lead

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mql_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sql_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("details", _json, nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column("decision_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("latency_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("within_sla", sa.Boolean(), nullable=True))
    # Stores made before these rules may hold duplicates: keep the newest open row of each.
    op.execute(
        "UPDATE handoff SET status = 'superseded' WHERE status = 'pending' AND id NOT IN "
        "(SELECT MAX(id) FROM handoff WHERE status = 'pending' GROUP BY lead_id)"
    )
    op.execute(
        "UPDATE enrollment SET status = 'exited' WHERE status = 'active' AND id NOT IN "
        "(SELECT MAX(id) FROM enrollment WHERE status = 'active' GROUP BY lead_id)"
    )
    op.create_index(
        "uq_handoff_pending_lead",
        "handoff",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "uq_enrollment_active_lead",
        "enrollment",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_enrollment_active_lead", table_name="enrollment")
    op.drop_index("uq_handoff_pending_lead", table_name="handoff")
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.drop_column("within_sla")
        batch_op.drop_column("latency_s")
        batch_op.drop_column("decision_note")
        batch_op.drop_column("details")
        batch_op.drop_column("rule")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("sql_at")
        batch_op.drop_column("mql_at")
