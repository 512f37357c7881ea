"""What falls inside each shift: public holidays (whose) and time off (who, why).

Shown next to the schedule in the terminal and in Slack, so whoever is on call over
Thanksgiving or while a teammate is away sees it before the week starts.
"""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from schedules.availability import overlaps, time_off
from schedules.generate import rotation_of
from schedules.public_holidays import holidays_between
from schedules.queries import OnCall
from storage.models import Member, Team, TimeOff


def shift_notes(session: Session, team: Team, shifts: Sequence[OnCall]) -> list[list[str]]:
    """One list of notes per shift, e.g. ["Thu 25 Nov: Thanksgiving Day (Alice, Charlie)"].

    Holidays are listed on the shift's days (start day and the six after, for weekly
    shifts); time off on every day the shift touches, handoff morning included: the same
    days the planner checks time off against."""
    members = list(
        session.exec(select(Member).where(Member.team_id == team.id, col(Member.active)).order_by(col(Member.position)))
    )
    away = time_off(session, [member.id for member in members])
    names = {member.id: member.name for member in members}
    rotation = rotation_of(team)
    indexes = [rotation.index_at(shift.start) for shift in shifts]
    return [_notes(members, away, names, rotation.days(i), rotation.touched_days(i)) for i in indexes]


def _notes(
    members: Sequence[Member],
    away: Sequence[TimeOff],
    names: dict[str, str],
    days: Sequence[date],
    touched: Sequence[date],
) -> list[str]:
    observers: dict[tuple[date, str], list[str]] = {}
    for member in members:
        for day, name in holidays_between(member, days[0], days[-1]).items():
            observers.setdefault((day, name), []).append(member.name)
    notes = [f"{day:%a %d %b}: {name} ({', '.join(who)})" for (day, name), who in sorted(observers.items())]
    notes += [_away_note(names[off.member_id], off) for off in sorted(away, key=_by_start) if overlaps(off, touched)]
    return notes


def _by_start(off: TimeOff) -> tuple[date, str]:
    return off.first_day, off.member_id


def _away_note(name: str, off: TimeOff) -> str:
    reason = f": {off.reason}" if off.reason else ""
    return f"{name} away {off.first_day:%d %b} to {off.last_day:%d %b}{reason}"
