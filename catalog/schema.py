"""The shape of `team.yaml`, validated field by field.

Cross-references (owners must be members, ids unique) are checked in `catalog.loader`,
which knows where each entry sits in the file and can name it.
"""

import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_MAJOR_HOLIDAYS = ("New Year's Day", "Independence Day", "Thanksgiving Day", "Christmas Day")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^([CGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]*)$")


class Strict(BaseModel):
    """Unknown keys are typos, not extensions: refuse them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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

    first_day: date
    last_day: date
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> "TimeOffEntry":
        if self.last_day < self.first_day:
            raise ValueError(f"last_day {self.last_day} is before first_day {self.first_day}")
        return self


class MemberEntry(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=80)
    slack_id: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    timezone: str
    country: str
    subdivision: str | None = None
    time_off: tuple[TimeOffEntry, ...] = ()

    _timezone = field_validator("timezone")(_check_timezone)

    @field_validator("slack_id")
    @classmethod
    def _slack_id(cls, value: str) -> str:
        if not _SLACK_USER.match(value):
            raise ValueError(f"{value!r} is not a Slack user id (like 'U0A11CE')")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in holidays.list_supported_countries():
            raise ValueError(f"unknown country code {value!r} (an ISO 3166 code like 'US' or 'GB')")
        return value

    @model_validator(mode="after")
    def _subdivision(self) -> "MemberEntry":
        known = holidays.list_supported_countries()[self.country]
        if self.subdivision is not None and self.subdivision not in known:
            raise ValueError(
                f"subdivision: {self.subdivision!r} is not a subdivision of {self.country} "
                f"(one of {', '.join(known[:12])}{' …' if len(known) > 12 else ''})"
            )
        return self


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
    start: date
    shift_days: int = Field(default=7, ge=1, le=28)
    handoff_weekday: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    handoff_time: time = time(10, 0)
    freeze_days: int = Field(default=14, ge=0, le=90)
    major_holidays: tuple[str, ...] = DEFAULT_MAJOR_HOLIDAYS

    @model_validator(mode="after")
    def _start_on_handoff_day(self) -> "RotationEntry":
        if WEEKDAYS[self.start.weekday()] != self.handoff_weekday:
            raise ValueError(
                f"start: {self.start} is a {WEEKDAYS[self.start.weekday()]}, "
                f"but handoffs happen on {self.handoff_weekday}"
            )
        return self

    @property
    def weekday_index(self) -> int:
        return WEEKDAYS.index(self.handoff_weekday)


class TeamEntry(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=80)
    timezone: str
    channel: str
    rotation: RotationEntry
    members: tuple[MemberEntry, ...] = Field(min_length=2)
    pipelines: tuple[PipelineEntry, ...] = ()

    _timezone = field_validator("timezone")(_check_timezone)
    _channel = field_validator("channel")(_check_channel)


class CatalogFile(Strict):
    teams: tuple[TeamEntry, ...] = Field(min_length=1)
