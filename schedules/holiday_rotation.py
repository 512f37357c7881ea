"""The separate, pre-agreed rotation for major holidays (New Year's Day, Christmas, ...).

Pure: the year's holidays, the members and the past go in; who is primary on each
holiday comes out.  The database side is `schedules.holiday_plan`.

Rule, applied holiday group by holiday group in date order (holidays falling in one shift
form a group and go to one person, since a shift has one primary):

1. Only members available for that shift (no time off in it) are candidates.
2. Nobody gets a holiday they had the year before, unless nobody else is available.
3. Among the rest, the fewest major holidays so far (history and this plan) goes first;
   then whoever went longest without one; then rotation order.

Step 3 is water-filling, so the counts stay as balanced as the calendar allows, and over
the years everyone takes their turn at Christmas.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby


@dataclass(frozen=True)
class MajorHoliday:
    """One major holiday of the plan's year and the shift (index) it falls in."""

    name: str
    day: date
    shift: int


@dataclass(frozen=True)
class PastHoliday:
    """Who was primary on a major holiday before."""

    name: str
    day: date
    member: str


class NobodyAvailable(ValueError):
    """Every member is away for a holiday's shift."""


def plan_holidays(
    holidays: Sequence[MajorHoliday],
    members: Sequence[str],
    past: Sequence[PastHoliday],
    unavailable: Mapping[str, frozenset[int]],
    kept: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Holiday name -> member for every holiday in `holidays`; `kept` ones are not moved.

    Raises `NobodyAvailable` naming the holiday when its shift has nobody to give it to.
    """
    kept = kept or {}
    count = {member: 0 for member in members}
    last_day = {member: date.min for member in members}
    for event in past:
        _credit(count, last_day, event.member, event.day)
    plan: dict[str, str] = {}
    ordered = sorted(holidays, key=lambda holiday: (holiday.day, holiday.name))
    for _shift, group in groupby(ordered, key=lambda holiday: holiday.shift):
        group_list = list(group)
        chosen = _kept_member(group_list, kept) or _choose(group_list, members, past, unavailable, count, last_day)
        for holiday in group_list:
            plan[holiday.name] = chosen
            _credit(count, last_day, chosen, holiday.day)
    return plan


def _kept_member(group: Sequence[MajorHoliday], kept: Mapping[str, str]) -> str | None:
    return next((kept[holiday.name] for holiday in group if holiday.name in kept), None)


def _choose(
    group: Sequence[MajorHoliday],
    members: Sequence[str],
    past: Sequence[PastHoliday],
    unavailable: Mapping[str, frozenset[int]],
    count: Mapping[str, int],
    last_day: Mapping[str, date],
) -> str:
    shift = group[0].shift
    available = [member for member in members if shift not in unavailable.get(member, frozenset())]
    if not available:
        names = ", ".join(f"{holiday.name} ({holiday.day})" for holiday in group)
        raise NobodyAvailable(f"nobody is available for {names}: every member is away that week")
    last_year = {
        event.member
        for event in past
        for holiday in group
        if event.name == holiday.name and event.day.year == holiday.day.year - 1
    }
    fresh = [member for member in available if member not in last_year] or available
    order = {member: position for position, member in enumerate(members)}
    return min(fresh, key=lambda member: (count[member], last_day[member], order[member]))


def _credit(count: dict[str, int], last_day: dict[str, date], member: str, day: date) -> None:
    if member in count:
        count[member] += 1
        last_day[member] = max(last_day[member], day)
