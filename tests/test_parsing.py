"""The command parsers on their own: any text yields a request, never an exception."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    AWAY_USAGE,
    MAX_AWAY_DAYS,
    MAX_WEEKS,
    Away,
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

ANY_TEXT = st.text(max_size=200)


@given(ANY_TEXT)
def test_parsers_accept_anything(text: str) -> None:
    assert isinstance(parse_oncall(text), OncallRequest)
    assert isinstance(parse_runbook(text), RunbookRequest)
    assert isinstance(parse_mention(text), MentionRequest)


@given(st.dates(), st.integers(min_value=-5, max_value=MAX_AWAY_DAYS + 5), st.text(max_size=30))
def test_away_takes_a_period_in_order_and_of_bounded_length(first: date, length: int, reason: str) -> None:
    try:
        last = first + timedelta(days=length)
    except OverflowError:
        return
    request = parse_oncall(f"away {first} {last} {reason}")
    if 0 <= length < MAX_AWAY_DAYS:
        assert request == Away(first, last, " ".join(reason.split()))
    else:
        assert isinstance(request, Help) and request.problem


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
