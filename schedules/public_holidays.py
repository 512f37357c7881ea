"""Public holidays per member (country and subdivision, from the `holidays` package).

One cached calendar per (country, subdivision, year): the planner asks about every day of
every shift for every member, and building a `holidays` calendar costs milliseconds.
Observed days ("Christmas Day (observed)") count, as the issue asks.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType

import holidays

from storage.models import Member


@cache
def calendar(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """Every public holiday of one year, read-only: day -> name ("A; B" when two coincide)."""
    return MappingProxyType(dict(holidays.country_holidays(country, subdiv=subdivision, years=year)))


def holiday_name(member: Member, day: date) -> str | None:
    """The name of `member`'s public holiday on `day`, if it is one."""
    return calendar(member.country, member.subdivision, day.year).get(day)


def own_holiday_days(member: Member, days: Iterable[date]) -> int:
    """How many of `days` are public holidays where `member` lives."""
    return sum(1 for day in days if holiday_name(member, day) is not None)


def holidays_between(member: Member, first: date, last: date) -> dict[date, str]:
    """`member`'s public holidays from `first` to `last` inclusive, in date order."""
    result = {}
    day = first
    while day <= last:
        name = holiday_name(member, day)
        if name is not None:
            result[day] = name
        day += timedelta(days=1)
    return result


def team_country(members: Sequence[Member]) -> tuple[str, str | None]:
    """The country whose calendar names the team's major holidays: the one most active
    members live in, ties going to the member listed first (Alice and Charlie make the
    example team's US). Its subdivision is that first member's."""
    active = [member for member in members if member.active] or list(members)
    if not active:
        raise ValueError("a team without members has no holiday calendar")
    counts = Counter(member.country for member in active)  # in order of first appearance
    country = max(counts, key=counts.__getitem__)  # max keeps the first of equals
    first = next(member for member in active if member.country == country)
    return country, first.subdivision


def named_days(country: str, subdivision: str | None, year: int, names: Sequence[str]) -> list[tuple[str, date]]:
    """The actual (not observed) day of each named holiday in `year`, in the order given.

    Names are matched exactly, as the `holidays` package spells them; a name the calendar
    does not have that year is left out (the caller reports it).
    """
    found: list[tuple[str, date]] = []
    for name in names:
        days = [day for day, label in calendar(country, subdivision, year).items() if name in label.split("; ")]
        found.extend((name, day) for day in sorted(days))
    return found
