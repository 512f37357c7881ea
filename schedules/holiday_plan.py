"""The major-holiday rotation in the database: plan a year, read it back as pinned
primaries for the regular schedule, and move a holiday off someone who is now away.

The year's holidays are the team's `major_holidays`, named as the `holidays` package spells
them for the team's country (`public_holidays.team_country`).  The past is read from the
stored shifts (who was primary on each major holiday), so swaps count and a team that
starts planning in 2027 still gets credit for 2026.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, delete, select

from core.errors import OncallError
from schedules.availability import unavailable
from schedules.calendar import Rotation
from schedules.generate import rotation_of
from schedules.holiday_rotation import MajorHoliday, NobodyAvailable, PastHoliday, plan_holidays
from schedules.public_holidays import named_days, team_country
from storage.models import HolidayAssignment, Member, Shift, Team

_MIDDAY = time(12, 0)


@dataclass(frozen=True)
class PlannedHoliday:
    name: str
    day: date
    member: str


@dataclass(frozen=True)
class HolidayPlan:
    """A year's plan; `created` is False when it already existed and was only shown."""

    year: int
    country: str
    holidays: tuple[PlannedHoliday, ...]
    missing: tuple[str, ...]
    created: bool


def shift_of(rotation: Rotation, day: date) -> int:
    """The shift on call on `day`: the one running at local midday."""
    return rotation.index_at(datetime.combine(day, _MIDDAY, tzinfo=rotation.zone))


def major_holidays(session: Session, team: Team, year: int) -> tuple[list[MajorHoliday], list[str], str]:
    """The year's major holidays with their shifts, the names not found, and the country."""
    country, subdivision = team_country(_members(session, team))
    holidays, missing = _in_year(team, country, subdivision, year)
    return holidays, missing, country


def major_holidays_between(session: Session, team: Team, first_year: int, last_year: int) -> list[MajorHoliday]:
    """Every major holiday of the years `first_year`..`last_year` (members read once)."""
    country, subdivision = team_country(_members(session, team))
    return [h for year in range(first_year, last_year + 1) for h in _in_year(team, country, subdivision, year)[0]]


def _in_year(team: Team, country: str, subdivision: str | None, year: int) -> tuple[list[MajorHoliday], list[str]]:
    found = named_days(country, subdivision, year, team.major_holidays)
    rotation = rotation_of(team)
    holidays = [MajorHoliday(name, day, shift_of(rotation, day)) for name, day in found if shift_of(rotation, day) >= 0]
    missing = [name for name in team.major_holidays if name not in {name for name, _ in found}]
    return holidays, missing


def plan_year(session: Session, team: Team, year: int, now: datetime, replan: bool = False) -> HolidayPlan:
    """Assign the year's major holidays (or show the existing plan).

    With `replan`, holidays whose shift is already frozen (started or inside the freeze
    window) keep their member; the rest are planned afresh.  Writes nothing on error.
    """
    holidays, missing, country = major_holidays(session, team, year)
    existing = _stored(session, team, year)
    if existing and not replan:
        return HolidayPlan(year, country, _planned(holidays, existing), tuple(missing), created=False)
    frozen = _last_frozen_shift(team, now)
    frozen_holidays = [holiday for holiday in holidays if holiday.shift <= frozen]
    worked = _primaries(session, team, [holiday.shift for holiday in frozen_holidays])
    kept = {h.name: existing.get(h.name) or worked.get(h.shift) for h in frozen_holidays}
    plan = _solve(session, team, holidays, {name: member for name, member in kept.items() if member}, frozen)
    stale = delete(HolidayAssignment).where(
        col(HolidayAssignment.team_id) == team.id, col(HolidayAssignment.year) == year
    )
    session.execute(stale)
    for h in holidays:
        session.add(HolidayAssignment(team_id=team.id, year=year, holiday=h.name, day=h.day, member_id=plan[h.name]))
    session.flush()
    return HolidayPlan(year, country, _planned(holidays, plan), tuple(missing), created=True)


def plan_missing_years(session: Session, team: Team, first_year: int, last_year: int, now: datetime) -> list[int]:
    """Plan every year of the range that has no plan yet, earliest first (each plan reads
    the ones before it), so the schedule always has a holiday rotation to respect, whether
    or not anyone ran `oncall holidays plan`.  Returns the years that got a plan.

    A year with a holiday nobody can cover stays unplanned: that week cannot be staffed at
    all, and the schedule's own refusal names it (and stops just before it)."""
    planned = []
    for year in range(first_year, last_year + 1):
        if has_plan(session, team, year):
            continue
        try:
            if plan_year(session, team, year, now).holidays:
                planned.append(year)
        except OncallError:
            continue
    return planned


def _last_frozen_shift(team: Team, now: datetime) -> int:
    """The last shift regeneration may not touch: the one running at the freeze boundary."""
    return rotation_of(team).index_at(now + timedelta(days=team.freeze_days))


def pinned_primaries(session: Session, team: Team, first: int, count: int) -> dict[int, str]:
    """Slot (relative to shift `first`) -> the member the holiday plan makes primary."""
    rotation = rotation_of(team)
    first_day = rotation.local_start_day(first)
    last_day = rotation.local_start_day(first + count)
    query = select(HolidayAssignment).where(
        HolidayAssignment.team_id == team.id,
        col(HolidayAssignment.day) >= first_day,
        col(HolidayAssignment.day) <= last_day,
    )
    pins: dict[int, str] = {}
    for row in session.exec(query.order_by(col(HolidayAssignment.day))):
        slot = shift_of(rotation, row.day) - first
        if 0 <= slot < count:
            pins.setdefault(slot, row.member_id)
    return pins


def move_off_absent(session: Session, team: Team, now: datetime) -> list[str]:
    """Re-plan the future holidays of members now away (or gone); returns what moved."""
    frozen = _last_frozen_shift(team, now)
    rotation = rotation_of(team)
    query = select(HolidayAssignment).where(HolidayAssignment.team_id == team.id)
    rows = [row for row in session.exec(query) if shift_of(rotation, row.day) > frozen]
    members = _members(session, team)
    blocked = unavailable(session, members, rotation, [shift_of(rotation, row.day) for row in rows])
    moved: list[str] = []
    for year in sorted({row.year for i, row in enumerate(rows) if i in blocked.get(row.member_id, ())}):
        before = _stored(session, team, year)
        after = plan_year(session, team, year, now, replan=True)
        moved.extend(
            f"{holiday.name} {year}: {before[holiday.name]} -> {holiday.member}"
            for holiday in after.holidays
            if before.get(holiday.name) not in (None, holiday.member)
        )
    return moved


def _solve(
    session: Session, team: Team, holidays: Sequence[MajorHoliday], kept: Mapping[str, str], frozen: int
) -> dict[str, str]:
    members = _members(session, team)
    rotation = rotation_of(team)
    shifts = sorted({holiday.shift for holiday in holidays})
    blocked = unavailable(session, members, rotation, shifts)
    by_shift = {member: frozenset(shifts[i] for i in positions) for member, positions in blocked.items()}
    active = [member.id for member in members if member.active]
    first_year = min((holiday.day.year for holiday in holidays), default=rotation.start.year)
    try:
        return plan_holidays(holidays, active, _past(session, team, first_year, frozen), by_shift, kept)
    except NobodyAvailable as error:
        raise OncallError(f"cannot plan the holiday rotation for {team.id}: {error}") from None


def _past(session: Session, team: Team, before_year: int, frozen: int) -> list[PastHoliday]:
    """Who had each major holiday of the years before: the stored primary up to the frozen
    shift `frozen` (swaps count), that year's plan after it (the schedule will follow it)."""
    holidays = major_holidays_between(session, team, rotation_of(team).start.year, before_year - 1)
    primaries = _primaries(session, team, [holiday.shift for holiday in holidays if holiday.shift <= frozen])
    planned = session.exec(
        select(HolidayAssignment).where(HolidayAssignment.team_id == team.id, HolidayAssignment.year < before_year)
    )
    planned_by_day = {row.day: row.member_id for row in planned}
    past = []
    for h in holidays:
        member = primaries.get(h.shift) if h.shift <= frozen else planned_by_day.get(h.day)
        if member is not None:
            past.append(PastHoliday(h.name, h.day, member))
    return past


def _primaries(session: Session, team: Team, shifts: Sequence[int]) -> dict[int, str]:
    """Shift index -> its stored primary, for those of `shifts` that are stored (one query)."""
    if not shifts:
        return {}
    rotation = rotation_of(team)
    starts = {rotation.window(shift)[0]: shift for shift in shifts}
    query = select(Shift).where(Shift.team_id == team.id, col(Shift.start).in_(list(starts)))
    return {starts[row.start]: row.primary_id for row in session.exec(query)}


def has_plan(session: Session, team: Team, year: int) -> bool:
    return bool(_stored(session, team, year))


def _stored(session: Session, team: Team, year: int) -> dict[str, str]:
    query = select(HolidayAssignment).where(HolidayAssignment.team_id == team.id, HolidayAssignment.year == year)
    return {row.holiday: row.member_id for row in session.exec(query)}


def _planned(holidays: Sequence[MajorHoliday], plan: Mapping[str, str]) -> tuple[PlannedHoliday, ...]:
    return tuple(PlannedHoliday(h.name, h.day, plan[h.name]) for h in holidays if h.name in plan)


def _members(session: Session, team: Team) -> list[Member]:
    return list(session.exec(select(Member).where(Member.team_id == team.id).order_by(col(Member.position))))
