"""Writing shifts: the plain weekly round robin that keeps the schedule filled.

Only shifts whose origin is "rotation" are ever rewritten; swaps and overrides are
human decisions and stay.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, delete, select

from schedules.calendar import Rotation
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


def round_robin(members: Sequence[str], index: int) -> tuple[str, str]:
    """Primary and secondary of shift `index`: each member in turn, the next one as backup."""
    count = len(members)
    return members[index % count], members[(index + 1) % count]


def extend_schedule(session: Session, team: Team, until: datetime) -> int:
    """Add round-robin shifts after the last stored one until `until` is covered.

    Returns how many shifts were added.
    """
    rotation = rotation_of(team)
    last_start = session.exec(
        select(Shift.start).where(Shift.team_id == team.id).order_by(col(Shift.start).desc()).limit(1)
    ).first()
    first_index = 0 if last_start is None else rotation.index_at(last_start) + 1
    return _write_round_robin(session, team, range(first_index, rotation.index_at(until) + 1))


def regenerate_from(session: Session, team: Team, boundary: datetime) -> int:
    """Rewrite the generated shifts that start at or after `boundary` with today's members.

    Used when the membership changes; shifts before the boundary (the past and the freeze
    window) and human-decided shifts are kept.
    """
    rotation = rotation_of(team)
    replaceable = select(Shift).where(
        Shift.team_id == team.id, col(Shift.start) >= boundary, Shift.origin == "rotation"
    )
    indexes = sorted(rotation.index_at(shift.start) for shift in session.exec(replaceable))
    session.execute(
        delete(Shift).where(
            col(Shift.team_id) == team.id, col(Shift.start) >= boundary, col(Shift.origin) == "rotation"
        )
    )
    session.flush()
    return _write_round_robin(session, team, indexes)


def _write_round_robin(session: Session, team: Team, indexes: Sequence[int] | range) -> int:
    members = active_members(session, team.id)
    if len(members) < 2:
        return 0
    rotation = rotation_of(team)
    for index in indexes:
        start, end = rotation.window(index)
        primary, secondary = round_robin(members, index)
        session.add(Shift(team_id=team.id, start=start, end=end, primary_id=primary, secondary_id=secondary))
    session.flush()
    return len(indexes)
