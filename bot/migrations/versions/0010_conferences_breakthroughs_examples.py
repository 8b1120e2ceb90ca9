"""study conferences and check-ins, breakthrough contents and issues, good examples and
models; the officer's confirmed rating; check-ins in the unit tally

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:25:45
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "breakthrough",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("solved_percent", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("breakthrough", schema=None) as batch_op:
        batch_op.create_index("ix_breakthrough_plan_unit", ["campaign_id", "unit_id"], unique=False)

    op.create_table(
        "goodmodel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("results", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("recognition", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("replicated", sa.Boolean(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("goodmodel", schema=None) as batch_op:
        batch_op.create_index("ix_goodmodel_plan_unit", ["campaign_id", "unit_id"], unique=False)

    op.create_table(
        "studysession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=True),
        sa.Column("party_attendees", sa.Integer(), nullable=True),
        sa.Column("checkin_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("closes_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checkin_code"),
    )
    with op.batch_alter_table("studysession", schema=None) as batch_op:
        batch_op.create_index("ix_studysession_plan_unit", ["campaign_id", "unit_id"], unique=False)

    op.create_table(
        "goodexample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("edited_text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("officer_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("reviewer", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("reviewed_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("goodexample", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_goodexample_submitted_by"), ["submitted_by"], unique=False
        )
        batch_op.create_index("ix_goodexample_unit_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "studycheckin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("party_member", sa.Boolean(), nullable=False),
        sa.Column("checked_in_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["studysession.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "member_id"),
    )
    with op.batch_alter_table("studycheckin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studycheckin_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_studycheckin_session_id"), ["session_id"], unique=False
        )

    with op.batch_alter_table("pledge", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "rating_confirmed", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("rating_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
    # a self-assessment confirmed before this revision kept the proposed rating
    op.execute("UPDATE pledge SET rating_confirmed = rating WHERE assessment_status = 'confirmed'")

    with op.batch_alter_table("unittally", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checked_in", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("studied_any", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("unittally", schema=None) as batch_op:
        batch_op.drop_column("studied_any")
        batch_op.drop_column("checked_in")

    with op.batch_alter_table("pledge", schema=None) as batch_op:
        batch_op.drop_column("rating_reason")
        batch_op.drop_column("rating_confirmed")

    with op.batch_alter_table("studycheckin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studycheckin_session_id"))
        batch_op.drop_index(batch_op.f("ix_studycheckin_member_id"))

    op.drop_table("studycheckin")
    with op.batch_alter_table("goodexample", schema=None) as batch_op:
        batch_op.drop_index("ix_goodexample_unit_status")
        batch_op.drop_index(batch_op.f("ix_goodexample_submitted_by"))

    op.drop_table("goodexample")
    with op.batch_alter_table("studysession", schema=None) as batch_op:
        batch_op.drop_index("ix_studysession_plan_unit")

    op.drop_table("studysession")
    with op.batch_alter_table("goodmodel", schema=None) as batch_op:
        batch_op.drop_index("ix_goodmodel_plan_unit")

    op.drop_table("goodmodel")
    with op.batch_alter_table("breakthrough", schema=None) as batch_op:
        batch_op.drop_index("ix_breakthrough_plan_unit")

    op.drop_table("breakthrough")
