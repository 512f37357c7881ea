"""The domain's fixed vocabularies, stored as their string values (plain VARCHAR columns:
adding a member is a code change, never a database type migration)."""

from enum import StrEnum


class Role(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class ShiftOrigin(StrEnum):
    """Who decided a shift: the planner may rewrite only `ROTATION` shifts."""

    ROTATION = "rotation"
    SWAP = "swap"
    OVERRIDE = "override"


class TimeOffOrigin(StrEnum):
    """`CATALOG` rows are replaced on every sync; `ADHOC` ones are booked and kept."""

    CATALOG = "catalog"
    ADHOC = "adhoc"


class OwnershipOrigin(StrEnum):
    CATALOG = "catalog"
    ROTATION = "rotation"


class SwapStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class FrontEnd(StrEnum):
    """Where a change came from."""

    SLACK = "slack"
    TERMINAL = "terminal"
    TEAM_FILE = "team-file"
    START = "start"
    SCHEDULER = "scheduler"


class AuditAction(StrEnum):
    TIME_OFF_BOOKED = "time off booked"
    TIME_OFF_CANCELLED = "time off cancelled"
    SYNC = "team file synced"
    GENERATE = "schedule generated"
    EXTEND = "schedule extended"
    HOLIDAYS_PLANNED = "holidays planned"
    OWNERS_APPLIED = "owners applied"
    SHIFT_CHANGED = "shift changed"
    ANNOUNCEMENT_SENT = "announcement sent"
    ANNOUNCEMENT_SKIPPED = "announcement skipped"
    ANNOUNCEMENT_FAILED = "announcement failed"


class AnnouncementKind(StrEnum):
    """What the bot posts on its own, each at its due time."""

    HANDOFF = "handoff"  # team channel, at each shift boundary
    HANDOFF_DM = "handoff-dm"  # the incoming primary and secondary, at the boundary
    REMINDER = "reminder"  # each of the shift's two people, 7 days ahead
    HOLIDAY = "holiday"  # team channel, 7 days before a major holiday
    ONCALL_GROUP = "oncall-group"  # the Slack user group, set at the boundary
    TOPIC = "topic"  # the team channel's topic, set at the boundary


class AnnouncementState(StrEnum):
    """An outbox row's life: pending -> claimed -> sent | late | failed, or skipped.

    `PENDING` waits for its `next_attempt_at`; `CLAIMED` is an instance sending it (taken
    over when `claimed_at` is older than the claim timeout); `LATE` is sent, but after the
    bot was down at its time; `SKIPPED` was missed by more than the grace period and never
    sent; `FAILED` met a permanent error or ran out of its grace period."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    LATE = "late"
    SKIPPED = "skipped"
    FAILED = "failed"

    @property
    def done(self) -> bool:
        return self in (
            AnnouncementState.SENT,
            AnnouncementState.LATE,
            AnnouncementState.SKIPPED,
            AnnouncementState.FAILED,
        )
