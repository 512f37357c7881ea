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


class AuditAction(StrEnum):
    TIME_OFF_BOOKED = "time off booked"
    TIME_OFF_CANCELLED = "time off cancelled"
    SYNC = "team file synced"
    GENERATE = "schedule generated"
    EXTEND = "schedule extended"
    HOLIDAYS_PLANNED = "holidays planned"
    OWNERS_APPLIED = "owners applied"
    SHIFT_CHANGED = "shift changed"
