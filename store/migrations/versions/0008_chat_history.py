"""chat history: web chat users, threads, steps, elements and feedback

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime
_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chat_user",
        sa.Column("id", _str(length=36), nullable=False),
        sa.Column("identifier", _str(length=320), nullable=False),
        sa.Column("meta", _json, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identifier"),
    )
    op.create_table(
        "chat_thread",
        sa.Column("id", _str(length=36), nullable=False),
        sa.Column("user_id", _str(length=36), nullable=True),
        sa.Column("user_identifier", _str(length=320), nullable=True),
        sa.Column("name", _str(length=255), nullable=True),
        sa.Column("tags", _json, nullable=False),
        sa.Column("meta", _json, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["chat_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_thread_user_updated", "chat_thread", ["user_id", "updated_at"])
    op.create_table(
        "chat_step",
        sa.Column("id", _str(length=36), nullable=False),
        sa.Column("thread_id", _str(length=36), nullable=False),
        sa.Column("parent_id", _str(length=36), nullable=True),
        sa.Column("type", _str(length=40), nullable=False),
        sa.Column("name", _str(length=255), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", _json, nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_thread.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_step_thread_at", "chat_step", ["thread_id", "at"])
    op.create_table(
        "chat_element",
        sa.Column("id", _str(length=36), nullable=False),
        sa.Column("thread_id", _str(length=36), nullable=False),
        sa.Column("for_id", _str(length=36), nullable=True),
        sa.Column("mime", _str(length=255), nullable=True),
        sa.Column("data", _json, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_thread.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_element_thread_id", "chat_element", ["thread_id"])
    op.create_table(
        "chat_feedback",
        sa.Column("id", _str(length=36), nullable=False),
        sa.Column("for_id", _str(length=36), nullable=False),
        sa.Column("thread_id", _str(length=36), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("comment", _str(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_thread.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_feedback_for_id", "chat_feedback", ["for_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_feedback_for_id", table_name="chat_feedback")
    op.drop_table("chat_feedback")
    op.drop_index("ix_chat_element_thread_id", table_name="chat_element")
    op.drop_table("chat_element")
    op.drop_index("ix_chat_step_thread_at", table_name="chat_step")
    op.drop_table("chat_step")
    op.drop_index("ix_chat_thread_user_updated", table_name="chat_thread")
    op.drop_table("chat_thread")
    op.drop_table("chat_user")
