"""event index on (lead_id, occurred_at, type), replacing the one on lead_id alone

Profiles read each lead's events by lead, in time order, needing only their type and time:
this index answers that without touching the event rows (their JSON properties make them
wide), and serves every lookup by lead id that the old index did.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_event_lead_id_occurred_at_type"


def upgrade() -> None:
    op.create_index(NAME, "event", ["lead_id", "occurred_at", "type"], unique=False)
    op.drop_index("ix_event_lead_id", table_name="event")


def downgrade() -> None:
    op.create_index("ix_event_lead_id", "event", ["lead_id"], unique=False)
    op.drop_index(NAME, table_name="event")
