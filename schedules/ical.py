"""The schedule as an RFC 5545 calendar (.ics) for Google Calendar, Outlook and the like.

What goes in: one event per shift role (primary, secondary), each member's public holidays
as all-day events, and recorded time off as all-day events. With a member id, only that
member's shifts, holidays and time off.

Choices that matter to calendar clients:

- UIDs are stable and say *which slot*, not *who*: team + shift start (UTC) + role. A
  regeneration or a swap changes who is on call, and re-importing the file then updates the
  existing event instead of adding a duplicate next to the stale one.
- SEQUENCE grows with `Shift.updated_at`, so clients that compare sequence numbers before
  accepting an update to a known UID take the new content (this relies on whoever changes a
  shift also setting `updated_at`: the planner stamps every shift it rewrites).
- Times are written in UTC (`...Z`): no VTIMEZONE to get wrong, and the handoff still lands
  at the team's local 10:00 on both sides of a DST change (the stored instants are right).
- Events are TRANSPARENT: being on call should not block a whole week as busy, and someone
  else's holiday or time off should not make the importer look busy.
- DTSTAMP is the injected `now`, so an export is reproducible in tests.

Reading (`read_content`) and building (`build_calendar`) are split so the builder is a pure
function of plain values; `icalendar` does all escaping and line folding.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import Session, col, or_, select

from core.errors import NotFound
from core.timefmt import format_local_with_year, local, local_midnight
from schedules.public_holidays import holidays_between
from storage.enums import ShiftOrigin
from storage.models import Member, Shift, Team, TimeOff

PRODID = "-//oncall//export-ical//EN"
UID_DOMAIN = "oncall"
ROLES = ("primary", "secondary")
# SEQUENCE counts seconds from here rather than from 1970 so it stays a 32-bit signed
# integer (what several clients store) until 2088 instead of 2038.
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ShiftEntry:
    """One stored shift with names resolved; `updated_at` drives LAST-MODIFIED and SEQUENCE."""

    start: datetime
    end: datetime
    primary_id: str
    primary: str
    secondary_id: str
    secondary: str
    origin: str
    updated_at: datetime


@dataclass(frozen=True)
class HolidayEntry:
    """A public holiday of one (country, subdivision) calendar, with the members observing it."""

    country: str
    subdivision: str | None
    day: date
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class AwayEntry:
    """Recorded time off: whole days `first_day`..`last_day` inclusive."""

    id: int
    member: str
    first_day: date
    last_day: date
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class CalendarContent:
    """Everything one export shows, as plain values."""

    team_id: str
    team_name: str
    timezone: str
    member_id: str | None
    member_name: str | None
    shifts: tuple[ShiftEntry, ...]
    holidays: tuple[HolidayEntry, ...]
    away: tuple[AwayEntry, ...]


def export_calendar(
    session: Session, team: Team, first: datetime, last: datetime, now: datetime, member_id: str | None = None
) -> bytes:
    """The .ics bytes for [first, last): shifts overlapping it, holidays and time off on its days."""
    data: bytes = build_calendar(read_content(session, team, first, last, member_id), now).to_ical()
    return data


def read_content(
    session: Session, team: Team, first: datetime, last: datetime, member_id: str | None = None
) -> CalendarContent:
    """Read what an export of [first, last) shows; an unknown member (or another team's) is refused."""
    members = {m.id: m for m in session.exec(select(Member).where(Member.team_id == team.id))}
    if member_id is not None and member_id not in members:
        raise NotFound(f"no member '{member_id}' in team {team.id}: known members are {', '.join(sorted(members))}")
    chosen = [members[member_id]] if member_id is not None else [m for m in members.values() if m.active]
    first_day, last_day = local_days(first, last, team.timezone)
    names = {member.id: member.name for member in members.values()}
    return CalendarContent(
        team_id=team.id,
        team_name=team.name,
        timezone=team.timezone,
        member_id=member_id,
        member_name=None if member_id is None else names[member_id],
        shifts=tuple(_read_shifts(session, team, first, last, member_id, names)),
        holidays=tuple(group_holidays(chosen, first_day, last_day)),
        away=tuple(_read_time_off(session, [m.id for m in chosen], first_day, last_day, names)),
    )


def weeks_span(first_day: date, weeks: int, timezone: str) -> tuple[datetime, datetime]:
    """[local midnight of `first_day`, local midnight `weeks` later): whole team-local days,
    so a shift running at midnight is included and the holidays of the last day are too."""
    return local_midnight(first_day, timezone), local_midnight(first_day + timedelta(weeks=weeks), timezone)


def local_days(first: datetime, last: datetime, timezone: str) -> tuple[date, date]:
    """The team-local days [first, last) touches, inclusive: all-day events are local days."""
    return local(first, timezone).date(), local(last - timedelta(microseconds=1), timezone).date()


def _read_shifts(
    session: Session, team: Team, first: datetime, last: datetime, member_id: str | None, names: dict[str, str]
) -> list[ShiftEntry]:
    """Shifts overlapping [first, last), by the (team_id, start) and (team_id, end) indexes."""
    query = select(Shift).where(Shift.team_id == team.id, col(Shift.end) > first, col(Shift.start) < last)
    if member_id is not None:
        query = query.where(or_(col(Shift.primary_id) == member_id, col(Shift.secondary_id) == member_id))
    return [
        ShiftEntry(
            start=row.start,
            end=row.end,
            primary_id=row.primary_id,
            primary=names[row.primary_id],
            secondary_id=row.secondary_id,
            secondary=names[row.secondary_id],
            origin=row.origin,
            updated_at=row.updated_at,
        )
        for row in session.exec(query.order_by(col(Shift.start)))
    ]


def _read_time_off(
    session: Session, member_ids: Sequence[str], first_day: date, last_day: date, names: dict[str, str]
) -> list[AwayEntry]:
    """Time off of `member_ids` touching the days first_day..last_day."""
    query = (
        select(TimeOff)
        .where(
            col(TimeOff.member_id).in_(member_ids),
            col(TimeOff.cancelled_at).is_(None),
            TimeOff.last_day >= first_day,
            TimeOff.first_day <= last_day,
        )
        .order_by(col(TimeOff.first_day), col(TimeOff.id))
    )
    return [
        AwayEntry(row.id or 0, names[row.member_id], row.first_day, row.last_day, row.reason, row.created_at)
        for row in session.exec(query)
    ]


def group_holidays(members: Iterable[Member], first_day: date, last_day: date) -> list[HolidayEntry]:
    """One entry per (country, subdivision, day), naming everyone who observes it, in date order.

    Grouping keeps a team calendar from showing Thanksgiving once per American colleague.
    """
    grouped: dict[tuple[str, str | None, date], tuple[str, list[str]]] = {}
    for member in members:
        for day, name in holidays_between(member, first_day, last_day).items():
            grouped.setdefault((member.country, member.subdivision, day), (name, []))[1].append(member.name)
    return [
        HolidayEntry(country, subdivision, day, name, tuple(observers))
        for (country, subdivision, day), (name, observers) in sorted(
            grouped.items(), key=lambda item: (item[0][2], item[0][0], item[0][1] or "")
        )
    ]


def build_calendar(content: CalendarContent, now: datetime) -> Calendar:
    """The calendar for `content`, stamped `now` (pure: same input, same bytes)."""
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name(content))
    calendar.add("x-wr-timezone", content.timezone)
    for shift in content.shifts:
        for role in _roles(shift, content.member_id):
            calendar.add_component(shift_event(content, shift, role, now))
    for holiday in content.holidays:
        calendar.add_component(holiday_event(content.team_id, holiday, now))
    for away in content.away:
        calendar.add_component(away_event(away, now))
    return calendar


def calendar_name(content: CalendarContent) -> str:
    """The name clients show for the subscription or imported calendar (X-WR-CALNAME)."""
    if content.member_name is None:
        return f"{content.team_name} on call"
    return f"{content.member_name}'s on-call shifts"


def _roles(shift: ShiftEntry, member_id: str | None) -> list[str]:
    """Both roles for the team calendar; for one member, only the role(s) they hold."""
    if member_id is None:
        return list(ROLES)
    return [
        role for role, holder in zip(ROLES, (shift.primary_id, shift.secondary_id), strict=True) if holder == member_id
    ]


def shift_uid(team_id: str, start: datetime, role: str) -> str:
    """Names the slot, never the person or the row id: a swap updates the event in place."""
    return f"{team_id}-{start.astimezone(UTC):%Y%m%dT%H%M%SZ}-{role}@{UID_DOMAIN}"


def holiday_uid(team_id: str, holiday: HolidayEntry) -> str:
    """Per team, calendar and day: the summary lists the team's members, so two teams
    imported into one client must not overwrite each other's holiday events."""
    return f"{team_id}-holiday-{region(holiday)}-{holiday.day:%Y%m%d}@{UID_DOMAIN}"


def region(holiday: HolidayEntry) -> str:
    """ "GB-ENG", or just "GB" without a subdivision: which holiday calendar this comes from."""
    return holiday.country if holiday.subdivision is None else f"{holiday.country}-{holiday.subdivision}"


def time_off_uid(away_id: int) -> str:
    """Time off rows are never edited in place (a change is a new row), so the id is stable."""
    return f"timeoff-{away_id}@{UID_DOMAIN}"


def sequence(updated_at: datetime) -> int:
    """Monotonic in `updated_at`: a change stored with a later `updated_at` gives a higher SEQUENCE."""
    return max(0, int((updated_at - SEQUENCE_EPOCH).total_seconds()))


def shift_event(content: CalendarContent, shift: ShiftEntry, role: str, now: datetime) -> Event:
    """One role of one shift, in UTC."""
    holder, other_role, other = (
        (shift.primary, "secondary", shift.secondary)
        if role == "primary"
        else (shift.secondary, "primary", shift.primary)
    )
    summary = f"On call ({role}): {holder}" if content.member_id is None else f"On call: {role}, {content.team_name}"
    event = _event(shift_uid(content.team_id, shift.start, role), summary, now)
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("last-modified", shift.updated_at.astimezone(UTC))
    event.add("sequence", sequence(shift.updated_at))
    event.add("description", _shift_description(content, shift, role, holder, other_role, other))
    return event


def _shift_description(
    content: CalendarContent, shift: ShiftEntry, role: str, holder: str, other_role: str, other: str
) -> str:
    start, end = (format_local_with_year(instant, content.timezone) for instant in (shift.start, shift.end))
    lines = [
        f"{content.team_name}: {holder} is {role} on call; {other} is {other_role}.",
        f"Handoff {start}; next handoff {end} ({content.timezone}).",
    ]
    if shift.origin != ShiftOrigin.ROTATION:
        lines.append(f"Set by {shift.origin}.")
    return "\n".join(lines)


def holiday_event(team_id: str, holiday: HolidayEntry, now: datetime) -> Event:
    """An all-day public holiday (DTEND is the next day: RFC 5545 ends are exclusive)."""
    observers = ", ".join(holiday.members)
    event = _event(holiday_uid(team_id, holiday), f"Holiday ({holiday.country}): {holiday.name} — {observers}", now)
    event.add("dtstart", holiday.day)
    event.add("dtend", holiday.day + timedelta(days=1))
    event.add("description", f"Public holiday in {region(holiday)} for {observers}.")
    return event


def away_event(away: AwayEntry, now: datetime) -> Event:
    """Time off as all-day events (whole local days, the last one included)."""
    label = f"Away: {away.member}" + (f" ({away.reason})" if away.reason else "")
    event = _event(time_off_uid(away.id), label, now)
    event.add("dtstart", away.first_day)
    event.add("dtend", away.last_day + timedelta(days=1))
    event.add("last-modified", away.created_at.astimezone(UTC))
    event.add("description", f"{away.member} is away {away.first_day} to {away.last_day} inclusive.")
    return event


def _event(uid: str, summary: str, now: datetime) -> Event:
    """The properties every event has. All are TRANSPARENT: whoever imports the team calendar
    must not show as busy for someone else's shift, holiday or time off."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    return event
