"""Calendar days typed by people: one parser for Slack and the terminal alike.

A typo must never be read as something else: `2027-13-01` is refused, not taken as the
reason of a one-day booking, and `2027-02-29` is "not a date in 2027" rather than a
format message. Years are bounded so arithmetic on a day never overflows.
"""

import calendar
import re
from datetime import date

from core.errors import OncallError

FIRST_YEAR = 2000
LAST_YEAR = 2099
# ASCII digits only: `\d` alone would take fullwidth or Arabic-Indic digits as a date.
_DATE_SHAPE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_LOOSE_SHAPE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$", re.ASCII)


class InvalidDate(OncallError):
    """Text meant as a day that is not one; the message says why."""


def looks_like_date(word: str) -> bool:
    """True for anything shaped like a date, valid or not (`2027-13-01`, `1/3/2027`)."""
    return bool(_LOOSE_SHAPE.match(word.strip()))


def parse_day(text: str) -> date:
    """`YYYY-MM-DD`, or `InvalidDate` naming exactly what is wrong."""
    word = text.strip()
    shown = word if len(word) <= 40 else word[:39] + "…"
    match = _DATE_SHAPE.match(word)
    if match is None:
        raise InvalidDate(f"{shown} is not a date: write days as YYYY-MM-DD, e.g. 2027-03-01")
    year, month, day = (int(part) for part in match.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidDate(f"{shown} is out of range: years {FIRST_YEAR} to {LAST_YEAR} only")
    if not 1 <= month <= 12:
        raise InvalidDate(f"{shown} is not a date: there is no month {month}")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise InvalidDate(f"{shown} is not a date in {year}: {calendar.month_name[month]} has {last} days")
    return date(year, month, day)
