"""The team's rotation as stored: its calendar, its members in order, and the plain
round robin the team used before the fair planner (`schedules.planner`), which now only
fills in shifts that had started before the first schedule was stored.
"""

from datetime import datetime

from sqlmodel import Session, col, select

from schedules.calendar import Rotation
from schedules.peers import round_robin_pair
from storage.models import Member, Shift, Team

HORIZON_WEEKS = 52


def rotation_of(team: Team) -> Rotation:
    return Rotation(team.rotation_start, team.shift_days, team.handoff_time, team.timezone)


def active_members(session: Session, team_id: str) -> list[str]:
    """Member ids in rotation order."""
    rows = session.exec(
        select(Member.id).where(Member.team_id == team_id, col(Member.active)).order_by(col(Member.position))
    )
    return list(rows)


def fill_past(session: Session, team: Team, indexes: range, now: datetime) -> int:
    """Store round-robin shifts for `indexes`: missing shifts that have already started,
    before the first load or while the bot was not running.

    Nobody can know now who really covered them, and a started shift is not re-decided;
    the plain rotation is what the team did by hand, and it gives the fair solver a ledger
    to balance against. Returns how many shifts were written.
    """
    members = active_members(session, team.id) if indexes else []  # every start calls this
    if len(members) < 2:
        return 0
    rotation = rotation_of(team)
    for index in indexes:
        start, end = rotation.window(index)
        primary, secondary = round_robin_pair(members, index)
        session.add(
            Shift(team_id=team.id, start=start, end=end, primary_id=primary, secondary_id=secondary, updated_at=now)
        )
    session.flush()
    return len(indexes)


def last_stored_index(session: Session, team: Team) -> int | None:
    """Rotation index of the team's latest stored shift, if any."""
    last_start = session.exec(
        select(Shift.start).where(Shift.team_id == team.id).order_by(col(Shift.start).desc()).limit(1)
    ).first()
    return None if last_start is None else rotation_of(team).index_at(last_start)
