"""The command parsers on their own: any text yields a request, never an exception."""

import unicodedata
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    AWAY_USAGE,
    MAX_AWAY_DAYS,
    MAX_QUERY,
    MAX_WEEKS,
    Away,
    AwayList,
    Fairness,
    Help,
    MentionRequest,
    Next,
    Now,
    OncallRequest,
    RunbookList,
    RunbookRequest,
    Schedule,
    ShowRunbook,
    Who,
    parse_mention,
    parse_oncall,
    parse_runbook,
)
from core.dates import FIRST_YEAR, LAST_YEAR, looks_like_date

ANY_TEXT = st.text(max_size=200)


@given(ANY_TEXT)
def test_parsers_accept_anything(text: str) -> None:
    assert isinstance(parse_oncall(text), OncallRequest)
    assert isinstance(parse_runbook(text), RunbookRequest)
    assert isinstance(parse_mention(text), MentionRequest)


BOOKABLE_DAYS = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31))
REASONS = st.text(max_size=30).filter(lambda reason: not any(looks_like_date(word) for word in reason.split()[:1]))


@given(BOOKABLE_DAYS, st.integers(min_value=-5, max_value=MAX_AWAY_DAYS + 5), REASONS)
def test_away_takes_a_period_in_order_and_of_bounded_length(first: date, length: int, reason: str) -> None:
    last = first + timedelta(days=length)
    if last.year > LAST_YEAR:
        return
    request = parse_oncall(f"away {first} {last} {reason}")
    if 0 <= length < MAX_AWAY_DAYS:
        printable = "".join(" " if unicodedata.category(char) == "Cc" else char for char in reason)
        assert request == Away(first, last, " ".join(printable.split()))
    else:
        assert isinstance(request, Help) and request.problem


@given(st.dates(), st.dates(), REASONS)
def test_away_never_books_anything_but_the_days_typed(first: date, last: date, reason: str) -> None:
    """Whatever the dates, the request is those very days or a refusal: never a day read
    from something else, never an exception for a year far away."""
    request = parse_oncall(f"away {first} {last} {reason}")
    if isinstance(request, Away):
        assert (request.first, request.last) == (first, last)
    else:
        assert isinstance(request, Help) and request.problem


@given(st.integers(1, 9999), st.integers(0, 99), st.integers(0, 99))
def test_a_date_shaped_word_is_a_date_or_refused_as_not_one(year: int, month: int, day: int) -> None:
    typed = f"{year:04d}-{month:02d}-{day:02d}"
    request = parse_oncall(f"away 2027-05-20 {typed} holiday")
    if isinstance(request, Away):
        assert request.last.isoformat() == typed and request.reason == "holiday"
    else:
        assert isinstance(request, Help) and request.problem
        assert typed in request.problem or "before the first day" in request.problem or "at most" in request.problem


def test_date_typos_are_refused_by_name() -> None:
    assert parse_oncall("away 2027-05-20 2027-13-01") == Help("2027-13-01 is not a date: there is no month 13")
    assert parse_oncall("away 2027-02-29") == Help("2027-02-29 is not a date in 2027: February has 28 days")
    assert parse_oncall("away 9999-12-31") == Help("9999-12-31 is out of range: years 2000 to 2099 only")
    assert parse_oncall("away 1/3/2027") == Help("1/3/2027 is not a date: write days as YYYY-MM-DD, e.g. 2027-03-01")
    assert isinstance(parse_oncall("away 2027-05-20 2027-05-21 2027-05-22"), Help)
    assert parse_oncall("away LIST") == AwayList()


def test_punctuation_around_a_pipeline_name_is_ignored() -> None:
    assert parse_mention("<@U0BOT> who owns aggregate-growth?") == Who("aggregate-growth")
    assert parse_mention("<@U0BOT> runbook “aggregate-profit”!") == ShowRunbook("aggregate-profit")
    assert parse_oncall("who aggregate-growth?") == Who("aggregate-growth")
    assert parse_runbook("aggregate-growth. share") == ShowRunbook("aggregate-growth", share=True)
    assert len(parse_runbook("x" * 5000).query) == MAX_QUERY  # type: ignore[union-attr]


@given(ANY_TEXT)
def test_help_never_echoes_more_than_a_short_clip(text: str) -> None:
    request = parse_oncall(text)
    if isinstance(request, Help) and request.problem:
        assert len(request.problem) < 200


@given(st.integers(min_value=1, max_value=MAX_WEEKS), st.sampled_from(["schedule", "SCHEDULE", " schedule "]))
def test_schedule_weeks(weeks: int, verb: str) -> None:
    assert parse_oncall(f"{verb} {weeks}") == Schedule(weeks)


def test_examples() -> None:
    assert parse_oncall("") == Now()
    assert parse_oncall("  NOW ") == Now()
    assert parse_oncall("next") == Next()
    assert parse_oncall("schedule") == Schedule(4)
    assert isinstance(parse_oncall(f"schedule {MAX_WEEKS + 1}"), Help)
    assert parse_oncall("who aggregate growth") == Who("aggregate growth")
    assert parse_oncall("FAIRNESS") == Fairness()
    assert isinstance(parse_oncall("fairness 12"), Help)
    assert parse_oncall("away 2027-01-04") == Away(date(2027, 1, 4), date(2027, 1, 4))
    assert parse_oncall("away 2027-01-04 2027-01-08 dentist") == Away(date(2027, 1, 4), date(2027, 1, 8), "dentist")
    assert parse_oncall("away tomorrow") == parse_oncall("away") == Help(AWAY_USAGE)
    assert parse_runbook("") == RunbookList()
    assert parse_runbook("aggregate-growth share") == ShowRunbook("aggregate-growth", share=True)
    assert parse_runbook("share") == ShowRunbook("share")
    assert parse_mention("<@U0BOT> who is on call?") == Now()
    assert parse_mention("<@U0BOT> runbook aggregate-profit") == ShowRunbook("aggregate-profit")
    assert parse_mention("<@U0BOT|oncall> what's next") == Next()
    assert parse_mention("<@U0BOT> who owns daily growth") == Who("daily growth")
