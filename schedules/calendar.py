"""Where shifts begin and end.

Handoffs happen at a wall-clock time in the team's timezone ("Monday 10:00 New York"),
so boundaries are computed in local time and only then converted to UTC: across a DST
change a shift is 167 or 169 hours long, and the handoff stays at 10:00.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Rotation:
    """The timing part of a team's rotation (no people)."""

    start: date
    shift_days: int
    handoff_time: time
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_start_day(self, index: int) -> date:
        """The local calendar day shift `index` starts on."""
        return self.start + timedelta(days=index * self.shift_days)

    def window(self, index: int) -> tuple[datetime, datetime]:
        """Shift `index` as a UTC half-open interval [start, end)."""
        return self._handoff(index), self._handoff(index + 1)

    def days(self, index: int) -> tuple[date, ...]:
        """The local calendar days shift `index` starts on or runs through (holidays and
        weekend days are counted on these, one shift per day)."""
        first = self.local_start_day(index)
        return tuple(first + timedelta(days=offset) for offset in range(self.shift_days))

    def touched_days(self, index: int) -> tuple[date, ...]:
        """Every local day shift `index` is on call at all: `days` plus the morning of the
        handoff day it ends on.  Time off is checked against these, so someone away from
        Monday is not on call until Monday's 10:00 handoff."""
        days = self.days(index)
        if self.handoff_time == time(0):
            return days
        return (*days, days[-1] + timedelta(days=1))

    def index_at(self, instant: datetime) -> int:
        """The index of the shift running at `instant` (negative before the rotation starts)."""
        local_day = instant.astimezone(self.zone).date()
        index = (local_day - self.start).days // self.shift_days
        if instant < self._handoff(index):
            index -= 1
        return index

    def _handoff(self, index: int) -> datetime:
        local = datetime.combine(self.local_start_day(index), self.handoff_time, tzinfo=self.zone)
        return local.astimezone(UTC)
