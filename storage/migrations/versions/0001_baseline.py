"""baseline: the tables as the release before migrations made them

Revision ID: 0001
Revises: (none: the first)
Create Date: 2026-12-03 12:49:44.271762
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("shift_days", sa.Integer(), nullable=False),
        sa.Column("handoff_weekday", sa.Integer(), nullable=False),
        sa.Column("handoff_time", sa.Time(), nullable=False),
        sa.Column("rotation_start", sa.Date(), nullable=False),
        sa.Column("freeze_days", sa.Integer(), nullable=False),
        sa.Column("major_holidays", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_channel"), ["channel"], unique=False)

    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcement_team_id"), ["team_id"], unique=False)

    op.create_table(
        "member",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("slack_id", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("subdivision", sa.String(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_slack_id"), ["slack_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_team_id"), ["team_id"], unique=False)

    op.create_table(
        "pipeline",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        sa.Column("audience", sa.String(), nullable=False),
        sa.Column("run_schedule", sa.String(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("alert_channel", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pipeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_team_id"), ["team_id"], unique=False)

    op.create_table(
        "holidayassignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("holiday", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "year", "holiday"),
    )
    with op.batch_alter_table("holidayassignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holidayassignment_team_id"), ["team_id"], unique=False)

    op.create_table(
        "ownership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.String(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("primary_id", sa.String(), nullable=False),
        sa.Column("secondary_id", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("quarter", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline.id"],
        ),
        sa.ForeignKeyConstraint(
            ["primary_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["secondary_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pipeline_id", "effective_from"),
    )
    with op.batch_alter_table("ownership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ownership_pipeline_id"), ["pipeline_id"], unique=False)

    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("primary_id", sa.String(), nullable=False),
        sa.Column("secondary_id", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["primary_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["secondary_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "start", name="uq_shift_team_start"),
    )
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.create_index("ix_shift_team_end", ["team_id", "end"], unique=False)

    op.create_table(
        "timeoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("timeoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timeoff_member_id"), ["member_id"], unique=False)

    op.create_table(
        "swaprequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("requester_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("accepter_id", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepter_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shift.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("swaprequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_swaprequest_shift_id"), ["shift_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("swaprequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_swaprequest_shift_id"))

    op.drop_table("swaprequest")
    with op.batch_alter_table("timeoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeoff_member_id"))

    op.drop_table("timeoff")
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.drop_index("ix_shift_team_end")

    op.drop_table("shift")
    with op.batch_alter_table("ownership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ownership_pipeline_id"))

    op.drop_table("ownership")
    with op.batch_alter_table("holidayassignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holidayassignment_team_id"))

    op.drop_table("holidayassignment")
    with op.batch_alter_table("pipeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_team_id"))

    op.drop_table("pipeline")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_team_id"))
        batch_op.drop_index(batch_op.f("ix_member_slack_id"))

    op.drop_table("member")
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_team_id"))

    op.drop_table("announcement")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_channel"))

    op.drop_table("team")
