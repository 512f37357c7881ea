"""Booking and cancelling time off, from any front end: under the team's writer lock,
re-validated inside it, audited in the same transaction."""

from datetime import date, datetime

from sqlmodel import Session, select

from schedules import absences
from schedules.absences import TimeOffResult
from storage.db import team_writer
from storage.enums import AuditAction
from storage.models import Member, Team, TimeOff
from usecases.audit import Actor, record
from usecases.runtime import Runtime


def book(runtime: Runtime, actor: Actor, member_id: str, first: date, last: date, reason: str) -> TimeOffResult:
    """Record `member_id`'s time off and re-plan; refused (nothing written) when it is over,
    overlaps what the member has booked, or leaves a week nobody can staff."""
    team_id = _team_of_member(runtime, member_id)
    now = runtime.clock()
    with team_writer(runtime.engine, team_id) as session:
        result = absences.record_time_off(session, member_id, first, last, reason, now)
        summary = f"{member_id} away {first} to {last}" + (f" ({reason})" if reason else "")
        _record(session, actor, AuditAction.TIME_OFF_BOOKED, summary, result, now)
    return result


def cancel(runtime: Runtime, actor: Actor, booking_id: int, *, as_member: str | None = None) -> TimeOffResult:
    """Take a booking back and re-plan. With `as_member`, only that member's own booking
    may be cancelled (Slack: the clicking user; nothing in a button's value decides who)."""
    with runtime.session() as session:
        booking = session.get(TimeOff, booking_id)
        member_id = booking.member_id if booking is not None else None
    if member_id is None:
        raise absences.BookingNotFound(f"there is no time off #{booking_id}")
    if as_member is not None and member_id != as_member:
        raise absences.NotYours(f"time off #{booking_id} is not yours: only the member it belongs to can cancel it")
    team_id = _team_of_member(runtime, member_id)
    now = runtime.clock()
    with team_writer(runtime.engine, team_id) as session:
        result = absences.cancel_time_off(session, booking_id, now, actor.describe())
        off = result.booking
        summary = f"{member_id}'s time off #{booking_id} ({off.first_day} to {off.last_day}) cancelled"
        _record(session, actor, AuditAction.TIME_OFF_CANCELLED, summary, result, now)
    return result


def _record(
    session: Session, actor: Actor, action: AuditAction, summary: str, result: TimeOffResult, now: datetime
) -> None:
    off = result.booking
    details = {"booking": off.id, "first_day": str(off.first_day), "last_day": str(off.last_day), "reason": off.reason}
    record(
        session,
        actor,
        result.team.id,
        action,
        summary,
        now,
        member_id=off.member_id,
        details=details,
        changes=result.changes,
    )


def upcoming(runtime: Runtime, team: Team, member_id: str | None = None) -> list[TimeOff]:
    """Bookings not yet over (in team time): of `member_id`, or of the whole team."""
    with runtime.session() as session:
        if member_id is not None:
            absences.member_or_refuse(session, member_id)
            ids = [member_id]
        else:
            ids = list(session.exec(select(Member.id).where(Member.team_id == team.id)))
        return absences.upcoming_time_off(session, ids, runtime.clock(), team.timezone)


def _team_of_member(runtime: Runtime, member_id: str) -> str:
    """Which team's lock to take: the member is re-read and re-checked inside it."""
    with runtime.session() as session:
        return absences.team_of(session, absences.member_or_refuse(session, member_id)).id
