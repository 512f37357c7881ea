"""Time off: booking it, taking it back, and listing what is booked.

Each change re-plans the stored future (`planner.replan`): planned major holidays move off
whoever can no longer take them, then the schedule is regenerated with frozen and
human-decided shifts kept. Callers hold the team's writer lock (`storage.db.team_writer`),
so the overlap check below sees every booking committed before it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from core.errors import NotFound, OncallError
from core.timefmt import local_date, local_midnight
from schedules.availability import overlaps, time_off
from schedules.planner import Change, replan
from storage.db import existing
from storage.enums import Role, TimeOffOrigin
from storage.models import Member, Shift, Team, TimeOff


@dataclass(frozen=True)
class TimeOffResult:
    team: Team
    booking: TimeOff
    changes: list[Change]
    holidays_moved: list[str]
    still_on_call: list[tuple[datetime, str]]  # frozen shifts in the absence: (start, role)


class BookingNotFound(NotFound):
    """No time off with that id."""


class NotYours(OncallError):
    """Someone tried to change another member's booking."""


class AlreadyCancelled(OncallError):
    """The booking was cancelled before (a second click, a stale button)."""


def member_or_refuse(session: Session, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None or not member.active:
        raise NotFound(f"no member '{member_id}'")
    return member


def team_of(session: Session, member: Member) -> Team:
    return existing(session, Team, member.team_id)


def record_time_off(
    session: Session, member_id: str, first_day: date, last_day: date, reason: str, now: datetime
) -> TimeOffResult:
    """Add ad hoc time off and regenerate every stored shift from today on that it affects.

    A major holiday the member was planned to cover moves to someone else first.  Frozen
    shifts stay as they are (the solver keeps them fixed); if the member is on call in one
    of them, that is returned in `still_on_call`, for the team to arrange a swap.
    """
    member = member_or_refuse(session, member_id)
    if last_day < first_day:
        raise OncallError(f"the last day {last_day} is before the first day {first_day}")
    team = team_of(session, member)
    _check_new_time_off(session, member, team, first_day, last_day, now)
    booking = TimeOff(
        member_id=member_id,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
        origin=TimeOffOrigin.ADHOC,
        created_at=now,
    )
    session.add(booking)
    session.flush()
    moved, changes = replan(session, team, now)
    return TimeOffResult(team, booking, changes, moved, _still_on_call(session, team, member_id, first_day, last_day))


def cancel_time_off(session: Session, booking_id: int, now: datetime, by: str) -> TimeOffResult:
    """Take a booking back and re-plan. Catalog time off is the team file's to change, and
    time off already over changes no schedule: both are refused, as is a second cancel."""
    booking = session.get(TimeOff, booking_id)
    if booking is None:
        raise BookingNotFound(f"there is no time off #{booking_id}")
    if booking.cancelled_at is not None:
        raise AlreadyCancelled(f"time off #{booking_id} was already cancelled")
    if booking.origin == TimeOffOrigin.CATALOG:
        raise OncallError(f"time off #{booking_id} comes from the team file: remove it there and run `oncall sync`")
    member = member_or_refuse(session, booking.member_id)
    team = team_of(session, member)
    if booking.last_day < local_date(now, team.timezone):
        raise OncallError(f"time off #{booking_id} ({booking.first_day} to {booking.last_day}) is already over")
    booking.cancelled_at, booking.cancelled_by = now, by
    session.flush()
    moved, changes = replan(session, team, now)
    return TimeOffResult(team, booking, changes, moved, [])


def upcoming_time_off(session: Session, member_ids: list[str], now: datetime, timezone: str) -> list[TimeOff]:
    """Bookings not yet over and not cancelled, soonest first."""
    today = local_date(now, timezone)
    return sorted(
        (off for off in time_off(session, member_ids) if off.last_day >= today),
        key=lambda off: (off.first_day, off.id or 0),
    )


def _check_new_time_off(
    session: Session, member: Member, team: Team, first_day: date, last_day: date, now: datetime
) -> None:
    """Refuse time off that is already over (it cannot change a schedule) or that overlaps
    time off the member already has (say which, rather than listing it twice)."""
    today = local_date(now, team.timezone)
    if last_day < today:
        raise OncallError(f"{first_day} to {last_day} is already over (today is {today} in {team.timezone})")
    for off in time_off(session, [member.id]):
        if overlaps(off, (first_day, last_day)):
            raise OncallError(
                f"{member.name} is already away {off.first_day} to {off.last_day}"
                f"{f' ({off.reason})' if off.reason else ''} (#{off.id}): book only the days not covered"
            )


def _still_on_call(
    session: Session, team: Team, member_id: str, first_day: date, last_day: date
) -> list[tuple[datetime, str]]:
    """Shifts overlapping the absence that still have the member: the frozen ones."""
    begin = local_midnight(first_day, team.timezone)
    end = local_midnight(last_day + timedelta(days=1), team.timezone)
    query = select(Shift).where(Shift.team_id == team.id, col(Shift.start) < end, col(Shift.end) > begin)
    return [
        (shift.start, role)
        for shift in session.exec(query.order_by(col(Shift.start)))
        for role, holder in ((Role.PRIMARY, shift.primary_id), (Role.SECONDARY, shift.secondary_id))
        if holder == member_id
    ]
