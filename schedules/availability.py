"""Who is away when: time off (from the team file or `oncall away`) against shift days."""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from storage.models import Member, TimeOff


def unavailable(
    session: Session, members: Sequence[Member], shifts: Sequence[Sequence[date]]
) -> dict[str, frozenset[int]]:
    """Member id -> positions in `shifts` (each a shift's local days) they cannot cover.

    Time off overlapping any day of a shift blocks the whole shift; members who left are
    unavailable everywhere. Members free throughout are left out.
    """
    away: dict[str, list[TimeOff]] = {}
    for off in time_off(session, [member.id for member in members if member.active]):
        away.setdefault(off.member_id, []).append(off)
    result = {}
    for member in members:
        if not member.active:
            result[member.id] = frozenset(range(len(shifts)))
            continue
        blocked = {i for i, days in enumerate(shifts) for off in away.get(member.id, ()) if overlaps(off, days)}
        if blocked:
            result[member.id] = frozenset(blocked)
    return result


def overlaps(off: TimeOff, days: Sequence[date]) -> bool:
    return bool(days) and off.first_day <= days[-1] and off.last_day >= days[0]


def time_off(session: Session, member_ids: Sequence[str]) -> list[TimeOff]:
    """Every absence of `member_ids`, in one query."""
    if not member_ids:
        return []
    return list(session.exec(select(TimeOff).where(col(TimeOff.member_id).in_(member_ids))))
