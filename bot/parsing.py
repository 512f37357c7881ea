"""What a slash command or a mention asks for, as a plain value.

Pure functions: any text at all yields a request (unknown input yields `Help` with the
reason), never an exception, which the hypothesis tests check.
"""

import re
from dataclasses import dataclass
from datetime import date

DEFAULT_WEEKS = 4
MAX_WEEKS = 26
MAX_AWAY_DAYS = 366
AWAY_USAGE = (
    "`away` takes a first day and, for more than one day, a last day: `/oncall away 2027-03-01 2027-03-05 ski trip`"
)
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


OncallRequest = Now | Next | Schedule | Who | Away | Fairness | Help
RunbookRequest = RunbookList | ShowRunbook | Help
MentionRequest = OncallRequest | RunbookRequest


def parse_oncall(text: str) -> OncallRequest:
    """`/oncall [now|next|schedule [weeks]|who <pipeline>|help]`."""
    words = text.split()
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
        return Who(" ".join(rest)) if rest else Help("`who` needs a pipeline, e.g. `/oncall who aggregate-growth`")
    if verb == "away":
        return _away(rest)
    if verb == "fairness" and not rest:
        return Fairness()
    if verb == "help" and not rest:
        return Help()
    return Help(f"I don't know `{_clip(text)}`.")


def _away(rest: list[str]) -> OncallRequest:
    """`away FIRST LAST [reason…]`, ISO dates, last day included; one date means one day."""
    days = []
    for word in rest[:2]:
        try:
            days.append(date.fromisoformat(word))
        except ValueError:
            break
    if not days:
        return Help(AWAY_USAGE)
    first, last = days[0], days[-1]
    if last < first:
        return Help(f"The last day {last} is before the first day {first}.")
    if (last - first).days >= MAX_AWAY_DAYS:
        return Help(f"Time off is booked at most {MAX_AWAY_DAYS} days at a time.")
    return Away(first, last, " ".join(rest[len(days) :])[:200])


def _schedule(rest: list[str]) -> OncallRequest:
    if not rest:
        return Schedule()
    if len(rest) == 1 and rest[0].isdigit() and 1 <= int(rest[0]) <= MAX_WEEKS:
        return Schedule(int(rest[0]))
    return Help(f"`schedule` takes a number of weeks from 1 to {MAX_WEEKS}, not `{_clip(' '.join(rest))}`.")


def parse_runbook(text: str) -> RunbookRequest:
    """`/runbook [<pipeline> [share]]`."""
    words = text.split()
    if not words:
        return RunbookList()
    if words == ["help"]:
        return Help()
    share = len(words) > 1 and words[-1].lower() == "share"
    query = " ".join(words[:-1] if share else words)
    return ShowRunbook(query, share=share)


def parse_mention(text: str) -> MentionRequest:
    """ "@oncall who is on call", "@oncall runbook aggregate-profit", "@oncall next"…"""
    words = _MENTION.sub(" ", text).split()
    lowered = [word.lower().strip("?!.,") for word in words]
    if "runbook" in lowered:
        query = words[lowered.index("runbook") + 1 :]
        return ShowRunbook(" ".join(query)) if query else RunbookList()
    if "next" in lowered:
        return Next()
    if "schedule" in lowered:
        return Schedule()
    if "owns" in lowered and lowered.index("owns") + 1 < len(words):
        return Who(" ".join(words[lowered.index("owns") + 1 :]))
    if not lowered or "call" in lowered or "now" in lowered or "oncall" in lowered:
        return Now()
    return Help(f"I don't know `{_clip(' '.join(words))}`.")


def _clip(text: str, limit: int = 80) -> str:
    """User text shown back in help stays short (and is escaped by the renderer)."""
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"
