"""covering indexes for the per-unit figures (/thongke) and the report (/baocao)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 16:30:00

Measured with bench/stats.py (1,000,000 members, SQLite without ANALYZE): the per-unit
aggregates read these narrow indexes instead of the table rows (pledges and quiz attempts carry
JSON columns): a district's figures 2.2 s -> 0.24 s, the root's 4.0 s -> 1.9 s. A covering index
on studyprogress (topic_id, member_id, completed_at) was tried and left out: without planner
statistics SQLite then scans the whole topic for one district (0.24 s -> 0.41 s).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("member", "ix_member_unit_figures", ["unit_id", "deleted_at", "party_member"]),
    (
        "pledge",
        "ix_pledge_campaign_member",
        ["campaign_id", "member_id", "first_submitted_at", "status", "late"],
    ),
    (
        "quizattempt",
        "ix_quizattempt_campaign_member",
        ["campaign_id", "member_id", "topic_id", "finished_at", "score", "total", "passed"],
    ),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
