"""What a slash command or a mention asks for, as a plain value.

Pure functions: any text at all yields a request (unknown input yields `Help` with the
reason), never an exception, which the hypothesis tests check.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.mrkdwn import shorten
from core.dates import InvalidDate, looks_like_date, parse_day

DEFAULT_WEEKS = 4
MAX_WEEKS = 26
MAX_AWAY_DAYS = 366
MAX_QUERY = 200  # no pipeline name is longer; the rest of a pasted essay is noise
_QUOTES_AND_PUNCTUATION = "?!.,;:'\"()\u201c\u201d\u2018\u2019"  # curly quotes from phones
AWAY_USAGE = (
    "`away` takes a first day and, for more than one day, a last day: `/oncall away 2027-03-01 2027-03-05 ski trip`"
)
_RANGE_WORDS = {"to", "until", "till", "-", "–", "—", "->", "→"}  # noqa: RUF001 (dashes people type)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Now:
    pass


@dataclass(frozen=True)
class Next:
    pass


@dataclass(frozen=True)
class Schedule:
    weeks: int = DEFAULT_WEEKS


@dataclass(frozen=True)
class Who:
    query: str


@dataclass(frozen=True)
class Away:
    """Time off for the person asking (nobody can book it for someone else)."""

    first: date
    last: date
    reason: str = ""


@dataclass(frozen=True)
class AwayList:
    """The asker's own upcoming time off, each with a Cancel button."""


@dataclass(frozen=True)
class Fairness:
    """The fairness table over the weeks planned ahead."""


@dataclass(frozen=True)
class Help:
    problem: str | None = None  # why we are showing help, echoed (escaped) to the user


@dataclass(frozen=True)
class RunbookList:
    pass


@dataclass(frozen=True)
class ShowRunbook:
    query: str
    share: bool = False


OncallRequest = Now | Next | Schedule | Who | Away | AwayList | Fairness | Help
RunbookRequest = RunbookList | ShowRunbook | Help
MentionRequest = OncallRequest | RunbookRequest


def parse_oncall(text: str) -> OncallRequest:
    """`/oncall [now|next|schedule [weeks]|who <pipeline>|away …|fairness|help]`."""
    words = _printable(text).split()
    if not words:
        return Now()
    verb, rest = words[0].lower(), words[1:]
    if verb == "now" and not rest:
        return Now()
    if verb == "next" and not rest:
        return Next()
    if verb == "schedule":
        return _schedule(rest)
    if verb == "who":
        return Who(_query(rest)) if rest else Help("`who` needs a pipeline, e.g. `/oncall who aggregate-growth`")
    if verb == "away":
        return _away(rest)
    if verb == "fairness" and not rest:
        return Fairness()
    if verb == "help" and not rest:
        return Help()
    return Help(f"I don't know `{shorten(text)}`.")


def _away(rest: list[str]) -> OncallRequest:
    """`away FIRST [LAST] [reason…]`, ISO dates, last day included; one date means one day;
    `away list` lists. Every word shaped like a date must be one: a typo is refused, never
    read as the reason."""
    if [word.lower() for word in rest] == ["list"]:
        return AwayList()
    if len(rest) > 2 and rest[1].lower() in _RANGE_WORDS and looks_like_date(rest[2]):
        rest = [rest[0], *rest[2:]]  # "2027-03-01 to 2027-03-05"
    if not rest or not looks_like_date(rest[0]):
        return Help(AWAY_USAGE)
    if len(rest) > 2 and looks_like_date(rest[2]):
        return Help(f"`away` takes at most two days, a first and a last. {AWAY_USAGE}")
    dated = rest[:2] if len(rest) > 1 and looks_like_date(rest[1]) else rest[:1]
    try:
        days = [parse_day(word) for word in dated]
    except InvalidDate as invalid:
        return Help(str(invalid))
    first, last = days[0], days[-1]
    if last < first:
        return Help(f"The last day {last} is before the first day {first}.")
    if (last - first).days >= MAX_AWAY_DAYS:
        return Help(f"Time off is booked at most {MAX_AWAY_DAYS} days at a time.")
    return Away(first, last, " ".join(rest[len(days) :])[:200])


def _printable(text: str) -> str:
    """Control characters (a NUL, which PostgreSQL refuses in text, escapes, bells) become
    spaces before anything reads the words."""
    return "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)


def _query(words: list[str]) -> str:
    """A pipeline name as typed, without the punctuation of the sentence around it
    ("who owns aggregate-growth?")."""
    return " ".join(words)[:MAX_QUERY].strip(_QUOTES_AND_PUNCTUATION + " ")


def _schedule(rest: list[str]) -> OncallRequest:
    if not rest:
        return Schedule()
    if len(rest) == 1 and rest[0].isdigit() and 1 <= int(rest[0]) <= MAX_WEEKS:
        return Schedule(int(rest[0]))
    return Help(f"`schedule` takes a number of weeks from 1 to {MAX_WEEKS}, not `{shorten(' '.join(rest))}`.")


def parse_runbook(text: str) -> RunbookRequest:
    """`/runbook [<pipeline> [share]]`."""
    words = _printable(text).split()
    if not words:
        return RunbookList()
    if words == ["help"]:
        return Help()
    share = len(words) > 1 and words[-1].lower() == "share"
    return ShowRunbook(_query(words[:-1] if share else words), share=share)


def parse_mention(text: str) -> MentionRequest:
    """ "@oncall who is on call", "@oncall runbook aggregate-profit", "@oncall next"…"""
    words = _MENTION.sub(" ", _printable(text)).split()
    lowered = [word.lower().strip("?!.,") for word in words]
    if "runbook" in lowered:
        query = words[lowered.index("runbook") + 1 :]
        return ShowRunbook(_query(query)) if _query(query) else RunbookList()
    if "next" in lowered:
        return Next()
    if "schedule" in lowered:
        return Schedule()
    if "owns" in lowered and lowered.index("owns") + 1 < len(words):
        return Who(_query(words[lowered.index("owns") + 1 :]))
    if not lowered or "call" in lowered or "now" in lowered or "oncall" in lowered:
        return Now()
    return Help(f"I don't know `{shorten(' '.join(words))}`.")
