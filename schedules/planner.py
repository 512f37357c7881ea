"""From the database to the fair solver and back: which shifts may change, who is away,
whose public holidays fall where, and what the past already counts.

The solver (`schedules.solver`) is pure; this module is the only place that reads and
writes shifts for regeneration. Rules enforced here, before the solver runs:
shifts that already started, shifts starting inside the freeze window, and shifts decided
by a human (origin "swap" or "override") are passed as fixed and never rewritten.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from core.errors import OncallError
from core.timefmt import local_date, local_midnight
from schedules.availability import unavailable
from schedules.calendar import Rotation
from schedules.fairness import FairnessReport, evaluate
from schedules.generate import HORIZON_WEEKS, fill_past, last_stored_index, rotation_of
from schedules.holiday_plan import (
    HolidayPlan,
    has_plan,
    major_holidays_between,
    move_off_absent,
    pinned_primaries,
    plan_missing_years,
    plan_year,
)
from schedules.public_holidays import own_holiday_days
from schedules.solver import Assignment, History, Infeasible, Problem, Slot, solve, weekend_days
from storage.enums import ShiftOrigin
from storage.models import Member, Shift, Team

HUMAN_ORIGINS = (ShiftOrigin.SWAP, ShiftOrigin.OVERRIDE)
FROZEN = "regeneration keeps that shift (it has started, is inside the freeze window, or was agreed by hand)"


class ScheduleInfeasible(OncallError):
    """The constraints cannot all hold; nothing was written.  `first` is the rotation index
    of the first shift that cannot be staffed, when the refusal names one."""

    def __init__(self, message: str, first: int | None = None) -> None:
        super().__init__(message)
        self.first = first


@dataclass(frozen=True)
class Horizon:
    """Shift indexes [first, first + weeks) of one team's rotation."""

    team: Team
    first: int
    count: int

    @property
    def indexes(self) -> range:
        return range(self.first, self.first + self.count)

    @property
    def span(self) -> tuple[datetime, datetime]:
        """From the first shift's start to the last one's end, UTC."""
        rotation = rotation_of(self.team)
        return rotation.window(self.first)[0], rotation.window(self.first + self.count - 1)[1]


@dataclass(frozen=True)
class Change:
    start: datetime
    before: tuple[str, str] | None
    after: tuple[str, str]


def horizon_from(team: Team, start_day: date, weeks: int) -> Horizon:
    """The shifts from the one running at local midnight of `start_day`, `weeks` long."""
    rotation = rotation_of(team)
    return Horizon(team, max(0, rotation.index_at(local_midnight(start_day, team.timezone))), weeks)


def build_problem(session: Session, horizon: Horizon, now: datetime) -> tuple[Problem, dict[int, Shift]]:
    """The solver's input for `horizon`, and the stored shifts it covers (by slot)."""
    team, rotation = horizon.team, rotation_of(horizon.team)
    stored = _stored_shifts(session, team, rotation, horizon)
    frozen_before = now + timedelta(days=team.freeze_days)
    fixed = {
        slot: (shift.primary_id, shift.secondary_id)
        for slot, shift in stored.items()
        if shift.start < frozen_before or shift.origin in HUMAN_ORIGINS
    }
    members = _members(session, team, fixed.values())
    member_ids = {member.id for member in members}
    slots = tuple(Slot(rotation.local_start_day(i), rotation.days(i)) for i in horizon.indexes)
    away = unavailable(session, members, rotation, horizon.indexes)
    for member in members:  # someone who left still holds their frozen weeks: not a conflict
        if not member.active:
            away[member.id] = frozenset(i for i in away[member.id] if member.id not in fixed.get(i, ()))
    pins = pinned_primaries(session, team, horizon.first, horizon.count)
    major = _major_holidays_by_shift(session, team, horizon.first + horizon.count)
    problem = Problem(
        members=tuple(member.id for member in members),
        slots=slots,
        unavailable=away,
        own_holidays={m.id: _holiday_counts(m, slots) for m in members},
        fixed=fixed,
        pinned_primary={
            slot: member
            for slot, member in pins.items()
            if slot not in fixed and member in member_ids and slot not in away.get(member, ())
        },
        major_holidays={index - horizon.first: count for index, count in major.items() if index >= horizon.first},
        current={slot: (shift.primary_id, shift.secondary_id) for slot, shift in stored.items() if slot not in fixed},
        history=_history(session, team, rotation, horizon, members, major),
        previous=_previous(session, team, rotation, horizon.first),
    )
    return problem, stored


def _major_holidays_by_shift(session: Session, team: Team, end: int) -> dict[int, int]:
    """Shift index -> how many of the team's major holidays fall in it, for every shift
    before `end` (history and horizon alike)."""
    rotation = rotation_of(team)
    last_year = rotation.local_start_day(end).year
    return Counter(
        h.shift for h in major_holidays_between(session, team, rotation.start.year, last_year) if h.shift < end
    )


def generate(session: Session, horizon: Horizon, now: datetime) -> list[Change]:
    """Solve and write the horizon; returns the shifts that changed. All or nothing.

    Years up to the horizon's end get their holiday rotation first if they have none, from
    this year on (a plan reads the years before it).  A new plan can pin shifts already
    stored outside the horizon, so the horizon then grows to cover the stored future."""
    team, rotation = horizon.team, rotation_of(horizon.team)
    first_year = min(rotation.local_start_day(horizon.first).year, local_date(now, team.timezone).year)
    last_year = rotation.days(horizon.first + horizon.count - 1)[-1].year  # New Year's may end the shift
    if plan_missing_years(session, team, first_year, last_year, now):
        horizon = _spanning(horizon, stored_horizon(session, team, now))
    problem, stored = build_problem(session, horizon, now)
    try:
        assignments = solve(problem)
    except Infeasible as error:
        first = horizon.first + min(error.slots) if error.slots else None
        raise ScheduleInfeasible(f"cannot schedule {team.id}: {error}", first) from None
    return _write(session, horizon, stored, assignments, now)


def _spanning(horizon: Horizon, other: Horizon | None) -> Horizon:
    """The smallest horizon covering both (and any shifts between them)."""
    if other is None:
        return horizon
    first = min(horizon.first, other.first)
    end = max(horizon.first + horizon.count, other.first + other.count)
    return Horizon(horizon.team, first, end - first)


def fairness(session: Session, horizon: Horizon, now: datetime) -> FairnessReport:
    """The stored schedule over `horizon` measured against the best the inputs allow."""
    problem, stored = build_problem(session, horizon, now)
    missing = [i for i in range(horizon.count) if i not in stored]
    if missing:
        raise OncallError(f"{len(missing)} shifts in that period are not scheduled yet: run `oncall generate`")
    assignments = [Assignment(stored[i].primary_id, stored[i].secondary_id) for i in range(horizon.count)]
    try:
        return evaluate(problem, assignments)
    except Infeasible as error:
        raise ScheduleInfeasible(str(error)) from None


def _stored_shifts(session: Session, team: Team, rotation: Rotation, horizon: Horizon) -> dict[int, Shift]:
    first_start, last_end = horizon.span
    query = select(Shift).where(Shift.team_id == team.id, col(Shift.start) >= first_start, col(Shift.start) < last_end)
    return {rotation.index_at(shift.start) - horizon.first: shift for shift in session.exec(query)}


def _members(session: Session, team: Team, fixed_pairs: Iterable[tuple[str, str]]) -> list[Member]:
    """Active members in rotation order, plus anyone who left but still holds a fixed shift."""
    needed = {member_id for pair in fixed_pairs for member_id in pair}
    query = select(Member).where(Member.team_id == team.id).order_by(col(Member.position))
    return [m for m in session.exec(query) if m.active or m.id in needed]


def _holiday_counts(member: Member, slots: Sequence[Slot]) -> dict[int, int]:
    counts = {i: own_holiday_days(member, slot.days) for i, slot in enumerate(slots)}
    return {i: count for i, count in counts.items() if count}


def _history(
    session: Session,
    team: Team,
    rotation: Rotation,
    horizon: Horizon,
    members: Sequence[Member],
    major: Mapping[int, int],
) -> dict[str, History]:
    """Totals from every shift before the horizon: the fairness ledger carries over."""
    start, _ = rotation.window(horizon.first)
    by_id = {m.id: m for m in members}
    totals = {m.id: [0, 0, 0, 0, 0] for m in members}
    for shift in session.exec(select(Shift).where(Shift.team_id == team.id, col(Shift.start) < start)):
        index = rotation.index_at(shift.start)
        days = rotation.days(index)
        for role, member_id in enumerate((shift.primary_id, shift.secondary_id)):
            if member_id in totals:
                totals[member_id][role] += 1
                totals[member_id][2] += own_holiday_days(by_id[member_id], days)
                totals[member_id][3] += weekend_days(Slot(days[0], days))
        if shift.primary_id in totals:
            totals[shift.primary_id][4] += major.get(index, 0)
    return {member_id: History(*values) for member_id, values in totals.items()}


def _previous(session: Session, team: Team, rotation: Rotation, first: int) -> tuple[str, str] | None:
    if first == 0:
        return None
    start, _ = rotation.window(first - 1)
    shift = session.exec(select(Shift).where(Shift.team_id == team.id, Shift.start == start)).first()
    return None if shift is None else (shift.primary_id, shift.secondary_id)


def _write(
    session: Session, horizon: Horizon, stored: dict[int, Shift], assignments: Sequence[Assignment], now: datetime
) -> list[Change]:
    """Store what changed, stamping `updated_at` so calendar exports raise their SEQUENCE."""
    rotation, changes = rotation_of(horizon.team), []
    for slot, assignment in enumerate(assignments):
        pair = (assignment.primary, assignment.secondary)
        shift = stored.get(slot)
        if shift is not None and (shift.primary_id, shift.secondary_id) == pair:
            continue
        start, end = rotation.window(horizon.first + slot)
        if shift is None:
            session.add(
                Shift(
                    team_id=horizon.team.id,
                    start=start,
                    end=end,
                    primary_id=pair[0],
                    secondary_id=pair[1],
                    updated_at=now,
                )
            )
            changes.append(Change(start, None, pair))
        else:
            changes.append(Change(start, (shift.primary_id, shift.secondary_id), pair))
            shift.primary_id, shift.secondary_id, shift.updated_at = pair[0], pair[1], now
    session.flush()
    return changes


def plan_holidays(
    session: Session, team: Team, year: int, now: datetime, replan: bool = False
) -> tuple[HolidayPlan, list[Change]]:
    """Plan (or re-plan) the year's major-holiday rotation, then regenerate the stored
    future so the regular schedule makes each holiday's member primary.

    Years between this one and `year` are planned first: their holidays still ahead count
    as the history the plan balances against."""
    if has_plan(session, team, year) and not replan:
        return plan_year(session, team, year, now), []
    plan_missing_years(session, team, local_date(now, team.timezone).year, year - 1, now)
    plan = plan_year(session, team, year, now, replan)
    return plan, regenerate(session, team, now)


def replan(session: Session, team: Team, now: datetime) -> tuple[list[str], list[Change]]:
    """After time off or the members changed: planned major holidays move off whoever can
    no longer take them (returned as "Christmas Day 2027: dana -> bob"), then the stored
    future is regenerated."""
    moved = move_off_absent(session, team, now)
    return moved, regenerate(session, team, now)


def regenerate(session: Session, team: Team, now: datetime) -> list[Change]:
    """Re-solve every stored shift from the one running now on, after the inputs changed
    (time off, members, the holiday plan); frozen and human-decided shifts stay."""
    horizon = stored_horizon(session, team, now)
    return [] if horizon is None else generate(session, horizon, now)


def needs_extension(session: Session, team: Team, now: datetime) -> bool:
    """Whether `extend` has anything to do: a read, so starts need no writer lock."""
    last = last_stored_index(session, team)
    return last is None or last < rotation_of(team).index_at(now + timedelta(weeks=HORIZON_WEEKS))


def extend(session: Session, team: Team, now: datetime) -> tuple[list[Change], str | None]:
    """Keep a year of shifts stored: when shifts are missing up to the one running
    `HORIZON_WEEKS` from now, store them and re-solve the stored future with them.

    Missing shifts that had already started are filled round robin
    (`schedules.generate.fill_past`): nobody can re-decide them now.  The future is solved
    as one horizon, warm-started from what is stored (so little moves), and the weeks each
    new week brings stay as fair as the whole year allows; the solve runs only when a
    week is missing, about once a week.  A week nobody can staff is never filled: the
    schedule stops just before it, and the refusal is returned (None when it reaches the
    horizon), beside the changes made (for the audit trail).
    """
    rotation = rotation_of(team)
    last = last_stored_index(session, team)
    missing_from = 0 if last is None else last + 1
    fill_past(session, team, range(missing_from, rotation.index_at(now) + 1), now)
    if rotation.index_at(now + timedelta(weeks=HORIZON_WEEKS)) < missing_from:
        return [], None  # a year is stored (or the rotation starts later than a year from now)
    horizon = year_ahead(session, team, now)
    try:
        return generate(session, horizon, now), None
    except ScheduleInfeasible as refused:
        if refused.first is not None and refused.first > horizon.first:
            try:
                return generate(session, Horizon(team, horizon.first, refused.first - horizon.first), now), str(refused)
            except ScheduleInfeasible as again:
                return [], str(again)
        return [], str(refused)


def stored_horizon(session: Session, team: Team, now: datetime) -> Horizon | None:
    """From the shift running now to the last stored one; None when nothing is stored.
    Regenerations re-solve it and `oncall fairness` measures it by default, so the
    report judges exactly the weeks the planner balanced."""
    first, last = max(0, rotation_of(team).index_at(now)), last_stored_index(session, team)
    return None if last is None or last < first else Horizon(team, first, last - first + 1)


def fairness_horizon(session: Session, team: Team, now: datetime) -> Horizon:
    """The weeks a fairness report judges by default: the stored future (what every
    regeneration balanced), or a year from today when nothing is stored ahead."""
    return stored_horizon(session, team, now) or horizon_from(team, local_date(now, team.timezone), HORIZON_WEEKS)


def year_ahead(session: Session, team: Team, now: datetime) -> Horizon:
    """`oncall generate`'s default: the stored future, and at least `HORIZON_WEEKS`."""
    rotation = rotation_of(team)
    first = max(0, rotation.index_at(now))
    last = max(rotation.index_at(now + timedelta(weeks=HORIZON_WEEKS)), last_stored_index(session, team) or 0)
    return Horizon(team, first, last - first + 1)
