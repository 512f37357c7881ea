"""The shape of `team.yaml`, validated field by field.

Cross-references (owners must be members, ids unique) are checked in `catalog.loader`,
which knows where each entry sits in the file and can name it.

Checks that compare two fields are field validators on the later field, reading the
earlier one from `info.data`: unlike a model validator they still run when some other
field of the entry is wrong, so one typo never hides another problem.
"""

import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from core.dates import InvalidDate, parse_day

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_MAJOR_HOLIDAYS = ("New Year's Day", "Independence Day", "Thanksgiving Day", "Christmas Day")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
# What the database stores for a member whose Slack id is not known yet (`Member.slack_id`
# is required and indexed): shaped like an id, so every reader keeps working, and no real
# user's (Slack never hands out an all-zero id).
PLACEHOLDER_SLACK_ID = "U0000000"
# Written in team.yaml for "look this member up by e-mail" (compared case-insensitively),
# besides leaving `slack_id` out or empty.
_PLACEHOLDERS = frozenset({"", "TODO", PLACEHOLDER_SLACK_ID})
_CHANNEL = re.compile(r"^([CGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]*)$")
# A user group's handle as Slack allows it (what follows "@"), or its id.
_USER_GROUP = re.compile(r"^([a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{2,})$")
_CLOCK_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


def _day(value: object) -> date:
    """Days reach us as text (the loader keeps YAML dates unparsed) and go through the
    one parser for typed days, so `2027-04-35` is named rather than crashing PyYAML."""
    try:
        return parse_day(str(value))
    except InvalidDate as error:
        raise ValueError(str(error)) from None


def _clock_time(value: object) -> time:
    """`HH:MM` only: pydantic would read the number 600 as 00:10 UTC (PyYAML's reading of
    an unquoted 10:00 before the loader stopped that) and accept offsets the team
    timezone already decides."""
    match = _CLOCK_TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time of day: write it as HH:MM, e.g. '10:00'")
    return time(int(match[1]), int(match[2]))


Day = Annotated[date, BeforeValidator(_day)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class Strict(BaseModel):
    """Unknown keys are typos, not extensions: refuse them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def is_placeholder(slack_id: object) -> bool:
    """Whether a `slack_id` (in team.yaml or stored) names nobody yet: missing, empty,
    "TODO" or the stored placeholder. Such members are looked up by `email` on
    `oncall sync` (`catalog.sync`)."""
    return slack_id is None or (isinstance(slack_id, str) and slack_id.strip().upper() in _PLACEHOLDERS)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r} (use an IANA name like 'Europe/London')") from None
    return value


def _check_channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"{value!r} is not a Slack channel (a channel id like 'C0123ABCD' or '#name')")
    return value


class TimeOffEntry(Strict):
    """Planned time off, whole days in the member's own timezone, both ends included."""

    first_day: Day
    last_day: Day
    reason: str = ""

    @field_validator("last_day")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        first_day = info.data.get("first_day")
        if first_day is not None and value < first_day:
            raise ValueError(f"{value} is before first_day {first_day}")
        return value


class MemberEntry(Strict):
    """`slack_id` None: missing or a placeholder in the file, so a new team need not copy
    ids by hand; `oncall sync` looks the member up by `email` (see `catalog.sync`)."""

    id: Slug
    name: str = Field(min_length=1, max_length=80)
    slack_id: str | None = None
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    timezone: str
    country: str
    subdivision: str | None = None
    time_off: tuple[TimeOffEntry, ...] = ()

    _timezone = field_validator("timezone")(_check_timezone)

    @field_validator("slack_id")
    @classmethod
    def _slack_id(cls, value: str | None) -> str | None:
        if is_placeholder(value):
            return None
        if value is None or not _SLACK_USER.match(value):
            raise ValueError(f"{value!r} is not a Slack user id (like 'U0A11CE'; leave it out to look it up by email)")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in holidays.list_supported_countries():
            raise ValueError(f"unknown country code {value!r} (an ISO 3166 code like 'US' or 'GB')")
        return value

    @field_validator("subdivision")
    @classmethod
    def _subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if value is None or country is None:
            return value  # no subdivision, or an unknown country already named
        known = holidays.list_supported_countries()[country]
        if value not in known:
            raise ValueError(
                f"{value!r} is not a subdivision of {country} "
                f"(one of {', '.join(known[:12])}{' …' if len(known) > 12 else ''})"
            )
        return value


class PipelineEntry(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=120)
    area: str = Field(min_length=1, max_length=40)
    audience: Literal["investors", "experiments"]
    primary: str
    secondary: str
    schedule: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    alert_channel: str

    _alert_channel = field_validator("alert_channel")(_check_channel)


class RotationEntry(Strict):
    handoff_weekday: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]  # before start: it checks it
    start: Day
    shift_days: int = Field(default=7, ge=1, le=28)
    handoff_time: ClockTime = time(10, 0)
    freeze_days: int = Field(default=14, ge=0, le=90)
    major_holidays: tuple[str, ...] = DEFAULT_MAJOR_HOLIDAYS

    @field_validator("start")
    @classmethod
    def _start_on_handoff_day(cls, value: date, info: ValidationInfo) -> date:
        handoff_weekday = info.data.get("handoff_weekday")
        if handoff_weekday is not None and WEEKDAYS[value.weekday()] != handoff_weekday:
            raise ValueError(f"{value} is a {WEEKDAYS[value.weekday()]}, but handoffs happen on {handoff_weekday}")
        return value

    @property
    def weekday_index(self) -> int:
        return WEEKDAYS.index(self.handoff_weekday)


class TeamEntry(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=80)
    timezone: str
    channel: str
    oncall_group: str | None = None
    rotation: RotationEntry
    members: tuple[MemberEntry, ...] = Field(min_length=2)
    pipelines: tuple[PipelineEntry, ...] = ()

    _timezone = field_validator("timezone")(_check_timezone)
    _channel = field_validator("channel")(_check_channel)

    @field_validator("oncall_group")
    @classmethod
    def _user_group(cls, value: str | None) -> str | None:
        """The handle without its "@" (e.g. `data-oncall`), or the group's id (`S0…`)."""
        if value is None:
            return None
        handle = value.removeprefix("@")
        if not _USER_GROUP.match(handle):
            raise ValueError(f"{value!r} is not a Slack user group (a handle like 'data-oncall', or an id 'S0123')")
        return handle


class CatalogFile(Strict):
    teams: tuple[TeamEntry, ...] = Field(min_length=1)
