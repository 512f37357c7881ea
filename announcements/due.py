"""When each message is due, computed from the shifts and holiday plan in the database.

Nothing here is stored ahead: a sweep asks what fell due in a window and the outbox
records each once by its key, so a shift changed before its boundary needs no bookkeeping
(its handoff is built from the database when it is sent).

- Handoff (team channel), the two handoff DMs, the user group and the topic: at the
  shift's start, the team's handoff time in its own timezone.
- Week-ahead reminder, one per person of the shift: the same wall-clock time 7 days
  earlier, so a reminder stays at 10:00 New York across a DST change.
- Major-holiday notice (team channel): 7 days before the holiday, at the handoff time.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from storage.enums import AnnouncementKind
from storage.models import HolidayAssignment, Shift, Team
from storage.outbox import Due

AHEAD = timedelta(days=7)
AT_BOUNDARY = (AnnouncementKind.HANDOFF, AnnouncementKind.ONCALL_GROUP, AnnouncementKind.TOPIC)


def key_of(team_id: str, kind: AnnouncementKind, subject: str, recipient: str | None = None) -> str:
    """Deterministic: the same message always has the same key, on every instance."""
    return f"{team_id}:{kind}:{subject}" + (f":{recipient}" if recipient else "")


def week_before(instant: datetime, timezone: str) -> datetime:
    """The same wall-clock time 7 local days earlier (Python's aware arithmetic is
    wall-clock arithmetic within one zone)."""
    return (instant.astimezone(ZoneInfo(timezone)) - AHEAD).astimezone(UTC)


def subject_of(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def due_between(session: Session, teams: Sequence[Team], since: datetime, until: datetime) -> list[Due]:
    """Every message of `teams` due in (since, until], in due order."""
    by_id = {team.id: team for team in teams}
    dues: list[Due] = []
    for shift in _shifts(session, list(by_id), since, until + AHEAD + timedelta(hours=2)):
        team = by_id[shift.team_id]
        if since < shift.start <= until:
            dues += _at_boundary(team, shift)
        reminder_at = week_before(shift.start, team.timezone)
        if since < reminder_at <= until:
            dues += [_due(team, AnnouncementKind.REMINDER, shift.start, reminder_at, who) for who in _people(shift)]
    for holiday in _holidays(session, list(by_id), since.date(), (until + AHEAD).date() + timedelta(days=1)):
        team = by_id[holiday.team_id]
        notice_at = holiday_notice_at(team, holiday.day)
        if since < notice_at <= until:
            subject = f"{holiday.day.isoformat()}:{holiday.holiday}"
            dues.append(
                Due(
                    key_of(team.id, AnnouncementKind.HOLIDAY, subject),
                    team.id,
                    AnnouncementKind.HOLIDAY,
                    subject,
                    None,
                    notice_at,
                )
            )
    return sorted(dues, key=lambda due: (due.due_at, due.key))


def holiday_notice_at(team: Team, day: date) -> datetime:
    local = datetime.combine(day, team.handoff_time, tzinfo=ZoneInfo(team.timezone))
    return week_before(local, team.timezone)


def _at_boundary(team: Team, shift: Shift) -> list[Due]:
    kinds = [kind for kind in AT_BOUNDARY if kind != AnnouncementKind.ONCALL_GROUP or team.oncall_group]
    dues = [_due(team, kind, shift.start, shift.start, None) for kind in kinds]
    return dues + [_due(team, AnnouncementKind.HANDOFF_DM, shift.start, shift.start, who) for who in _people(shift)]


def _due(team: Team, kind: AnnouncementKind, start: datetime, at: datetime, recipient: str | None) -> Due:
    subject = subject_of(start)
    return Due(key_of(team.id, kind, subject, recipient), team.id, kind, subject, recipient, at)


def _people(shift: Shift) -> tuple[str, str]:
    return shift.primary_id, shift.secondary_id


def _shifts(session: Session, team_ids: Iterable[str], first: datetime, last: datetime) -> list[Shift]:
    query = select(Shift).where(
        col(Shift.team_id).in_(list(team_ids)), col(Shift.start) > first, col(Shift.start) <= last
    )
    return list(session.exec(query.order_by(col(Shift.start))))


def _holidays(session: Session, team_ids: Iterable[str], first: date, last: date) -> list[HolidayAssignment]:
    query = select(HolidayAssignment).where(
        col(HolidayAssignment.team_id).in_(list(team_ids)),
        col(HolidayAssignment.day) >= first,
        col(HolidayAssignment.day) <= last,
    )
    return list(session.exec(query))
