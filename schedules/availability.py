"""Who is away when: time off (from the team file or `oncall away`) against shift days."""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from schedules.calendar import Rotation
from storage.models import Member, TimeOff


def unavailable(
    session: Session, members: Sequence[Member], rotation: Rotation, shifts: Sequence[int]
) -> dict[str, frozenset[int]]:
    """Member id -> positions in `shifts` (rotation indexes) they cannot cover.

    Time off overlapping any day a shift touches (`Rotation.touched_days`, the handoff
    morning included) blocks the whole shift; members who left are unavailable everywhere.
    Members free throughout are left out.
    """
    days = [rotation.touched_days(index) for index in shifts]
    away: dict[str, list[TimeOff]] = {}
    for off in time_off(session, [member.id for member in members if member.active]):
        away.setdefault(off.member_id, []).append(off)
    result = {}
    for member in members:
        if not member.active:
            result[member.id] = frozenset(range(len(shifts)))
            continue
        blocked = {i for i, touched in enumerate(days) for off in away.get(member.id, ()) if overlaps(off, touched)}
        if blocked:
            result[member.id] = frozenset(blocked)
    return result


def overlaps(off: TimeOff, days: Sequence[date]) -> bool:
    return bool(days) and off.first_day <= days[-1] and off.last_day >= days[0]


def time_off(session: Session, member_ids: Sequence[str]) -> list[TimeOff]:
    """Every absence of `member_ids` still booked (cancelled ones no longer count), in one query."""
    if not member_ids:
        return []
    query = select(TimeOff).where(col(TimeOff.member_id).in_(member_ids), col(TimeOff.cancelled_at).is_(None))
    return list(session.exec(query))
