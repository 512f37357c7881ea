"""Who is on call: indexed lookups over stored shifts, returned as plain values."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from schedules.people import Person
from storage.db import existing
from storage.enums import ShiftOrigin
from storage.models import Member, Shift, Team


@dataclass(frozen=True)
class OnCall:
    """One shift, resolved to people."""

    team_id: str
    team_name: str
    team_timezone: str
    start: datetime
    end: datetime
    primary: Person
    secondary: Person
    origin: ShiftOrigin


def on_call_at(session: Session, team: Team, at: datetime) -> OnCall | None:
    """The shift running at `at`, via the (team_id, start) index: newest start <= at."""
    query = (
        select(Shift).where(Shift.team_id == team.id, col(Shift.start) <= at).order_by(col(Shift.start).desc()).limit(1)
    )
    shift = session.exec(query).first()
    if shift is None or shift.end <= at:
        return None
    return _resolve(session, team, shift)


def next_on_call(session: Session, team: Team, at: datetime) -> OnCall | None:
    """The first shift that starts after `at`."""
    query = select(Shift).where(Shift.team_id == team.id, col(Shift.start) > at).order_by(col(Shift.start)).limit(1)
    shift = session.exec(query).first()
    return None if shift is None else _resolve(session, team, shift)


def shifts_between(session: Session, team: Team, start: datetime, weeks: int) -> list[OnCall]:
    """Shifts overlapping [start, start + weeks)."""
    end = start + timedelta(weeks=weeks)
    query = (
        select(Shift)
        .where(Shift.team_id == team.id, col(Shift.end) > start, col(Shift.start) < end)
        .order_by(col(Shift.start))
    )
    return [_resolve(session, team, shift) for shift in session.exec(query)]


def _resolve(session: Session, team: Team, shift: Shift) -> OnCall:
    primary = existing(session, Member, shift.primary_id)
    secondary = existing(session, Member, shift.secondary_id)
    return OnCall(
        team_id=team.id,
        team_name=team.name,
        team_timezone=team.timezone,
        start=shift.start,
        end=shift.end,
        primary=Person.of(primary),
        secondary=Person.of(secondary),
        origin=shift.origin,
    )
