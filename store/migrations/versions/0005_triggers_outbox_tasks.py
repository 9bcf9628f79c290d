"""trigger firings, the outbox, delivery tasks; when an enrollment's next step is due; HTML
part of drafts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "trigger_firing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("rule", _str(length=80), nullable=False),
        sa.Column("action", _str(length=32), nullable=False),
        sa.Column("params", _json, nullable=False),
        sa.Column("dedupe_key", _str(length=300), nullable=False),
        sa.Column("source_event_id", _str(length=200), nullable=True),
        sa.Column("event_type", _str(length=64), nullable=True),
        sa.Column("event_at", _when(), nullable=True),
        sa.Column("received_at", _when(), nullable=True),
        sa.Column("fired_at", _when(), nullable=False),
        sa.Column("due_at", _when(), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("done_at", _when(), nullable=True),
        sa.Column("result", _str(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_trigger_firing_lead_id", "trigger_firing", ["lead_id"])
    op.create_index("ix_trigger_firing_rule", "trigger_firing", ["rule"])
    op.create_index("ix_trigger_firing_status_due_at", "trigger_firing", ["status", "due_at"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("touch_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", _str(length=128), nullable=False),
        sa.Column("message_id", _str(length=255), nullable=False),
        sa.Column("channel", _str(length=16), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("due_at", _when(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", _str(length=120), nullable=True),
        sa.Column("lease_until", _when(), nullable=True),
        sa.Column("transport", _str(length=16), nullable=True),
        sa.Column("recipient", _str(length=320), nullable=True),
        sa.Column("defer_reason", _str(), nullable=True),
        sa.Column("deferrals", sa.Integer(), nullable=False),
        sa.Column("last_error", _str(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("sent_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(["touch_id"], ["touch.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("touch_id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_outbox_lead_id", "outbox", ["lead_id"])
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
    op.create_index("ix_outbox_status_due_at", "outbox", ["status", "due_at"])

    op.create_table(
        "delivery_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("touch_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", _str(length=16), nullable=False),
        sa.Column("assignee", _str(length=120), nullable=True),
        sa.Column("title", _str(), nullable=False),
        sa.Column("body", _str(), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["touch_id"], ["touch.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("touch_id"),
    )
    op.create_index("ix_delivery_task_lead_id", "delivery_task", ["lead_id"])

    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_step_at", _when(), nullable=True))
        batch_op.create_index("ix_enrollment_next_step_at", ["next_step_at"], unique=False)
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", _str(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.drop_column("html")
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_next_step_at")
        batch_op.drop_column("next_step_at")
    op.drop_table("delivery_task")
    op.drop_table("outbox")
    op.drop_table("trigger_firing")
