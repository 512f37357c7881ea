"""Showing UTC instants as local time, the same way in Slack and in the terminal."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def local(instant: datetime, timezone: str) -> datetime:
    return instant.astimezone(ZoneInfo(timezone))


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar day `instant` falls on in `timezone`: "today" for a team or a person."""
    return local(instant, timezone).date()


def format_local(instant: datetime, timezone: str) -> str:
    """ "Mon 7 Dec 10:00 EST": weekday, day, time and zone abbreviation, unambiguous at a glance."""
    moment = local(instant, timezone)
    return f"{moment:%a} {moment.day} {moment:%b %H:%M %Z}"


def format_local_with_year(instant: datetime, timezone: str) -> str:
    moment = local(instant, timezone)
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M %Z}"


def local_midnight(day: date, timezone: str) -> datetime:
    """The instant `day` begins in `timezone` (where "from 2027-03-01" starts)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
