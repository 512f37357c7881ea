"""announcement outbox: states, attempts, claims; the team's on-call user group

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 02:20:00

`announcement` was created by the baseline and never written by a release, but a
database may still hold rows: one with `sent_at` becomes `sent`; an unsent one of a known
kind `pending` (due at its `due_at`); an unsent one of an unknown kind `skipped`, since
nothing could send it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("handoff", "handoff-dm", "reminder", "holiday", "oncall-group", "topic")


def upgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oncall_group", sa.String(), nullable=True))

    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("recipient", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(), nullable=False, server_default="pending"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(), nullable=True))
        batch_op.create_index("ix_announcement_state_next", ["state", "next_attempt_at"], unique=False)

    announcement = sa.table(
        "announcement",
        sa.column("kind", sa.String()),
        sa.column("state", sa.String()),
        sa.column("sent_at", sa.DateTime(timezone=True)),
        sa.column("due_at", sa.DateTime(timezone=True)),
        sa.column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.column("last_error", sa.String()),
    )
    op.execute(announcement.update().where(announcement.c.sent_at.is_not(None)).values(state="sent"))
    op.execute(
        announcement.update()
        .where(announcement.c.sent_at.is_(None), announcement.c.kind.in_(KINDS))
        .values(state="pending", next_attempt_at=announcement.c.due_at)
    )
    op.execute(
        announcement.update()
        .where(announcement.c.sent_at.is_(None), announcement.c.kind.not_in(KINDS))
        .values(state="skipped", last_error="unknown kind from before the outbox")
    )
    # The defaults served the rows above; from now on the application sets every value.
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.alter_column("subject", server_default=None)
        batch_op.alter_column("state", server_default=None)
        batch_op.alter_column("attempts", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index("ix_announcement_state_next")
        for column in ("last_error", "claimed_at", "claimed_by", "next_attempt_at", "attempts", "state", "recipient"):
            batch_op.drop_column(column)
        batch_op.drop_column("subject")

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("oncall_group")
