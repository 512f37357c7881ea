"""The tables. Every change to them is an Alembic migration (`storage/migrations`); a
test checks that the migrations produce exactly these models.

Conventions: string slugs as primary keys for catalog entities (they appear in commands
and URLs), integer ids for events; instants are `UTCDateTime`; calendar days are `date`.
"""

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import (
    AnnouncementKind,
    AnnouncementState,
    AuditAction,
    FrontEnd,
    OwnershipOrigin,
    Role,
    ShiftOrigin,
    SwapStatus,
    TimeOffOrigin,
)
from storage.types import EnumText, UTCDateTime


class Team(SQLModel, table=True):
    """A team and its rotation settings, as declared in the catalog."""

    id: str = Field(primary_key=True)
    name: str
    timezone: str
    channel: str = Field(index=True)
    shift_days: int = 7
    handoff_weekday: int = 0  # Monday = 0, as in `date.weekday()`
    handoff_time: time = time(10, 0)
    rotation_start: date
    freeze_days: int = 14
    major_holidays: list[str] = Field(default_factory=list, sa_type=JSON)
    oncall_group: str | None = None  # the Slack user group's handle (or id) that names the on-call


class Member(SQLModel, table=True):
    """A person on a team's rotation. Removed members stay (inactive) for history."""

    id: str = Field(primary_key=True)
    team_id: str = Field(foreign_key="team.id", index=True)
    name: str
    slack_id: str = Field(index=True)
    email: str
    timezone: str
    country: str
    subdivision: str | None = None
    position: int = 0  # order in the catalog: the rotation order and every tie-break
    active: bool = True


class Pipeline(SQLModel, table=True):
    """A data pipeline the team keeps running."""

    id: str = Field(primary_key=True)
    team_id: str = Field(foreign_key="team.id", index=True)
    name: str
    area: str
    audience: str
    run_schedule: str
    sources: list[str] = Field(default_factory=list, sa_type=JSON)
    alert_channel: str
    position: int = 0
    active: bool = True


class Ownership(SQLModel, table=True):
    """Who owns a pipeline from a given day on; the newest row not in the future wins.

    The catalog writes one row per pipeline (origin "catalog"); the quarterly rotation adds
    rows (origin "rotation", with the quarter), which keeps the history.
    """

    __table_args__ = (UniqueConstraint("pipeline_id", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: str = Field(foreign_key="pipeline.id", index=True)
    effective_from: date
    primary_id: str = Field(foreign_key="member.id")
    secondary_id: str = Field(foreign_key="member.id")
    origin: OwnershipOrigin = Field(default=OwnershipOrigin.CATALOG, sa_type=EnumText(OwnershipOrigin))
    quarter: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class Shift(SQLModel, table=True):
    """One on-call shift: [start, end) in UTC, a primary and a secondary.

    `origin` says who decided it: "rotation" (generated; may be regenerated), "swap" or
    "override" (a human decision; never rewritten by regeneration).
    """

    __table_args__ = (
        UniqueConstraint("team_id", "start", name="uq_shift_team_start"),
        Index("ix_shift_team_end", "team_id", "end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="team.id")
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    primary_id: str = Field(foreign_key="member.id")
    secondary_id: str = Field(foreign_key="member.id")
    origin: ShiftOrigin = Field(default=ShiftOrigin.ROTATION, sa_type=EnumText(ShiftOrigin))
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TimeOff(SQLModel, table=True):
    """A member's absence, whole local days `first_day`..`last_day` inclusive.

    Cancelled bookings stay (with `cancelled_at`), so an id shown to a user is never reused
    and a stale Cancel button can be told apart from a booking that never existed."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(foreign_key="member.id", index=True)
    first_day: date
    last_day: date
    reason: str = ""
    origin: TimeOffOrigin = Field(default=TimeOffOrigin.ADHOC, sa_type=EnumText(TimeOffOrigin))
    created_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by: str | None = None


class SwapRequest(SQLModel, table=True):
    """A request to hand one role of one shift to someone else."""

    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    role: Role = Field(sa_type=EnumText(Role))
    requester_id: str = Field(foreign_key="member.id")
    status: SwapStatus = Field(default=SwapStatus.OPEN, sa_type=EnumText(SwapStatus))
    accepter_id: str | None = Field(default=None, foreign_key="member.id")
    channel: str | None = None
    message_ts: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Announcement(SQLModel, table=True):
    """The outbox: one row per message the bot posts on its own (handoffs, reminders,
    holiday notices, the on-call group and topic), found by its deterministic `key`.

    The unique key makes the row, and so the send, happen once across every instance and
    restart; `state` and `attempts` make each send a claim that only one instance wins
    (see `storage.outbox`). `recipient` is the member a DM goes to (None for the channel);
    `subject` is what it is about (the shift's start, or the holiday)."""

    __table_args__ = (Index("ix_announcement_state_next", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    team_id: str = Field(foreign_key="team.id", index=True)
    kind: AnnouncementKind = Field(sa_type=EnumText(AnnouncementKind))
    subject: str = ""
    recipient: str | None = None
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: AnnouncementState = Field(default=AnnouncementState.PENDING, sa_type=EnumText(AnnouncementState))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str | None = None
    message_ts: str | None = None


class HolidayAssignment(SQLModel, table=True):
    """Who covers a major holiday in the separate, pre-agreed holiday rotation."""

    __table_args__ = (UniqueConstraint("team_id", "year", "holiday"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="team.id", index=True)
    year: int
    holiday: str
    day: date
    member_id: str = Field(foreign_key="member.id")


class AuditEntry(SQLModel, table=True):
    """One recorded change, written in the same transaction as the change itself.

    `actor` is who did it as the front end knows them (a Slack user id, the terminal user,
    the team file's path); `member_id` the member it is about, when there is one; `cause_id`
    ties each changed shift to the change (a booking, a sync) that moved it."""

    __table_args__ = (Index("ix_auditentry_team_at", "team_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="team.id")
    at: datetime = Field(sa_type=UTCDateTime)
    front_end: FrontEnd = Field(sa_type=EnumText(FrontEnd))
    actor: str
    action: AuditAction = Field(sa_type=EnumText(AuditAction))
    member_id: str | None = Field(default=None, foreign_key="member.id")
    summary: str
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    cause_id: int | None = Field(default=None, foreign_key="auditentry.id")


class EventReceipt(SQLModel, table=True):
    """An Events API delivery already handled: Slack retries with the same `event_id`, and
    the primary key makes the second delivery (on any instance) a no-op."""

    event_id: str = Field(primary_key=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
