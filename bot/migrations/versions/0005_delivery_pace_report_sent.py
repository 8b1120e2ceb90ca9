"""delivery pace shared by workers, broadcast report_sent_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliverypace",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("next_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_until", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform"),
    )
    with op.batch_alter_table("broadcast") as batch_op:
        batch_op.add_column(
            sa.Column("report_sent_at", bot.models.UTCDateTime(timezone=True), nullable=True)
        )
    # broadcasts finished before this revision had their report sent already
    op.execute("UPDATE broadcast SET report_sent_at = finished_at WHERE status = 'done'")


def downgrade() -> None:
    with op.batch_alter_table("broadcast") as batch_op:
        batch_op.drop_column("report_sent_at")
    op.drop_table("deliverypace")
