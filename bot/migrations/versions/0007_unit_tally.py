"""unit tally: each unit's own figures per campaign, refreshed by the scheduler

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unittally",
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("party_members", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("quiz_takers", sa.Integer(), nullable=False),
        sa.Column("quiz_passed", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.Column("studied", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "unit_id"),
    )


def downgrade() -> None:
    op.drop_table("unittally")
