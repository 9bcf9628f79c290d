"""eval runs: each run of the eval suite, its cases and every evaluator's verdict

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime
_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "eval_run",
        sa.Column("id", _str(length=64), nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("model", _str(length=200), nullable=False),
        sa.Column("judge_model", _str(length=200), nullable=True),
        sa.Column("prompts_dir", _str(), nullable=True),
        sa.Column("prompt_versions", _json, nullable=False),
        sa.Column("dataset", _json, nullable=False),
        sa.Column("baseline_id", _str(length=64), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("pass_rate", sa.Float(), nullable=False),
        sa.Column("evaluator_rates", _json, nullable=False),
        sa.Column("must_pass_failures", _json, nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("model_calls", sa.Integer(), nullable=False),
        sa.Column("cached_calls", sa.Integer(), nullable=False),
        sa.Column("latency", _json, nullable=False),
        sa.Column("gate", _json, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_eval_run_started_at", "eval_run", ["started_at"])
    op.create_table(
        "eval_case_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", _str(length=64), nullable=False),
        sa.Column("case_id", _str(length=120), nullable=False),
        sa.Column("must_pass", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("segment", _str(length=80), nullable=True),
        sa.Column("outcome", _json, nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_s", sa.Float(), nullable=False),
        sa.Column("cached_calls", sa.Integer(), nullable=False),
        sa.Column("error", _str(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["eval_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "case_id"),
    )
    op.create_index("ix_eval_case_result_run_id", "eval_case_result", ["run_id"])
    op.create_table(
        "eval_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", _str(length=64), nullable=False),
        sa.Column("case_id", _str(length=120), nullable=False),
        sa.Column("evaluator", _str(length=64), nullable=False),
        sa.Column("status", _str(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reason", _str(), nullable=True),
        sa.Column("details", _json, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["eval_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_eval_check_run_id_case_id", "eval_check", ["run_id", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_eval_check_run_id_case_id", table_name="eval_check")
    op.drop_table("eval_check")
    op.drop_index("ix_eval_case_result_run_id", table_name="eval_case_result")
    op.drop_table("eval_case_result")
    op.drop_index("ix_eval_run_started_at", table_name="eval_run")
    op.drop_table("eval_run")
