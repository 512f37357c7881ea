"""What each message says, read from the database when it is sent (never when it was
scheduled), so an override, a booking or a swap made before the boundary is in it.

Plain values only: the Slack front end renders them (`bot.views.announcements`).
`None` means the message no longer applies (the shift moved, the member is no longer on
it) and the outbox records it as skipped.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from catalog.schema import is_placeholder
from schedules.annotations import shift_notes
from schedules.availability import overlaps, time_off
from schedules.generate import rotation_of
from schedules.people import Person
from schedules.public_holidays import holidays_between
from schedules.queries import OnCall, on_call_at
from storage.enums import AnnouncementKind, Role, SwapStatus
from storage.models import Announcement, HolidayAssignment, Member, Pipeline, Shift, SwapRequest, Team

LATE_AFTER = timedelta(minutes=15)  # sent later than this after its time: says so


@dataclass(frozen=True)
class Runbook:
    pipeline: str
    slug: str


@dataclass(frozen=True)
class ShiftFacts:
    """A shift as every message about it shows it."""

    team_name: str
    team_timezone: str
    channel: str
    shift: OnCall
    previous: OnCall | None
    notes: tuple[str, ...]
    runbooks: tuple[Runbook, ...]
    open_swaps: int


@dataclass(frozen=True)
class Handoff:
    """The weekly handoff in the team channel."""

    facts: ShiftFacts
    late_since: datetime | None  # the due time, when sent late


@dataclass(frozen=True)
class HandoffDM:
    facts: ShiftFacts
    member: Person
    role: Role
    late_since: datetime | None


@dataclass(frozen=True)
class Reminder:
    """A week ahead; with holidays or time off of the member's own, a swap reminder."""

    facts: ShiftFacts
    member: Person
    role: Role
    own_holidays: tuple[tuple[date, str], ...]
    own_time_off: tuple[tuple[date, date, str], ...]
    late_since: datetime | None

    @property
    def asks_for_swap(self) -> bool:
        return bool(self.own_holidays or self.own_time_off)


@dataclass(frozen=True)
class HolidayNotice:
    team_name: str
    team_timezone: str
    channel: str
    holiday: str
    day: date
    cover: Person
    shift: OnCall | None
    late_since: datetime | None


@dataclass(frozen=True)
class GroupUpdate:
    """The user group set to the incoming pair."""

    team_name: str
    handle: str
    people: tuple[Person, ...]  # those with a Slack id (a member still unresolved is left out)


@dataclass(frozen=True)
class TopicUpdate:
    channel: str
    shift: OnCall
    handle: str | None


Content = Handoff | HandoffDM | Reminder | HolidayNotice | GroupUpdate | TopicUpdate


def build(session: Session, row: Announcement, now: datetime) -> Content | None:
    """The message for `row` as the database stands now."""
    team = session.get(Team, row.team_id)
    if team is None:
        return None
    late_since = row.due_at if now - row.due_at > LATE_AFTER else None
    if row.kind == AnnouncementKind.HOLIDAY:
        return _holiday_notice(session, team, row.subject, late_since)
    start = _start_of(row)
    shift = session.exec(select(Shift).where(Shift.team_id == team.id, Shift.start == start)).first() if start else None
    if shift is None:
        return None
    current = on_call_at(session, team, shift.start)
    if current is None:
        return None
    if row.kind == AnnouncementKind.ONCALL_GROUP:
        people = tuple(p for p in (current.primary, current.secondary) if not is_placeholder(p.slack_id))
        return GroupUpdate(team.name, team.oncall_group, people) if team.oncall_group and people else None
    if row.kind == AnnouncementKind.TOPIC:
        return TopicUpdate(team.channel, current, team.oncall_group)
    facts = _facts(session, team, current)
    if row.kind == AnnouncementKind.HANDOFF:
        return Handoff(facts, late_since)
    role = _role(current, row.recipient)
    if role is None:
        return None
    member = current.primary if role == Role.PRIMARY else current.secondary
    if is_placeholder(member.slack_id):  # no Slack id yet (`oncall sync` reports it): nobody to DM
        return None
    if row.kind == AnnouncementKind.HANDOFF_DM:
        return HandoffDM(facts, member, role, late_since)
    return _reminder(session, team, facts, member, role, late_since)


def _start_of(row: Announcement) -> datetime | None:
    """The shift's start the subject names; None for a subject of no known shape (a row
    from before the outbox), which then no longer applies."""
    try:
        return datetime.strptime(row.subject, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _role(shift: OnCall, member_id: str | None) -> Role | None:
    if member_id == shift.primary.id:
        return Role.PRIMARY
    if member_id == shift.secondary.id:
        return Role.SECONDARY
    return None


def _facts(session: Session, team: Team, shift: OnCall) -> ShiftFacts:
    previous = on_call_at(session, team, shift.start - timedelta(seconds=1))
    pipelines = session.exec(
        select(Pipeline)
        .where(Pipeline.team_id == team.id, col(Pipeline.active), Pipeline.audience == "investors")
        .order_by(col(Pipeline.position))
    )
    swaps = session.exec(
        select(SwapRequest.id)
        .join(Shift, col(Shift.id) == col(SwapRequest.shift_id))
        .where(Shift.team_id == team.id, Shift.start == shift.start, SwapRequest.status == SwapStatus.OPEN)
    )
    return ShiftFacts(
        team_name=team.name,
        team_timezone=team.timezone,
        channel=team.channel,
        shift=shift,
        previous=previous,
        notes=tuple(shift_notes(session, team, [shift])[0]),
        runbooks=tuple(Runbook(pipeline.name, pipeline.id) for pipeline in pipelines),
        open_swaps=len(list(swaps)),
    )


def _reminder(
    session: Session, team: Team, facts: ShiftFacts, person: Person, role: Role, late_since: datetime | None
) -> Reminder:
    member = session.get(Member, person.id)
    rotation = rotation_of(team)
    index = rotation.index_at(facts.shift.start)
    days, touched = rotation.days(index), rotation.touched_days(index)
    holidays = holidays_between(member, days[0], days[-1]) if member else {}
    away = [off for off in time_off(session, [person.id]) if overlaps(off, touched)]
    return Reminder(
        facts,
        person,
        role,
        tuple(sorted(holidays.items())),
        tuple(sorted((off.first_day, off.last_day, off.reason) for off in away)),
        late_since,
    )


def _holiday_notice(session: Session, team: Team, subject: str, late_since: datetime | None) -> HolidayNotice | None:
    day_text, _, name = subject.partition(":")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:  # a row from before the outbox
        return None
    assignment = session.exec(
        select(HolidayAssignment).where(
            HolidayAssignment.team_id == team.id, HolidayAssignment.day == day, HolidayAssignment.holiday == name
        )
    ).first()
    cover = session.get(Member, assignment.member_id) if assignment else None
    if cover is None:
        return None
    shift = on_call_at(session, team, datetime.combine(day, time(12), tzinfo=ZoneInfo(team.timezone)))
    return HolidayNotice(team.name, team.timezone, team.channel, name, day, Person.of(cover), shift, late_since)
