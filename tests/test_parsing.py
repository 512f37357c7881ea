"""The command parsers on their own: any text yields a request, never an exception."""

from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    MAX_WEEKS,
    Help,
    Next,
    Now,
    RunbookList,
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
    assert isinstance(parse_oncall(text), Now | Next | Schedule | Who | Help)
    assert isinstance(parse_runbook(text), RunbookList | ShowRunbook | Help)
    parse_mention(text)


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
    assert parse_runbook("") == RunbookList()
    assert parse_runbook("aggregate-growth share") == ShowRunbook("aggregate-growth", share=True)
    assert parse_runbook("share") == ShowRunbook("share")
    assert parse_mention("<@U0BOT> who is on call?") == Now()
    assert parse_mention("<@U0BOT> runbook aggregate-profit") == ShowRunbook("aggregate-profit")
    assert parse_mention("<@U0BOT|oncall> what's next") == Next()
    assert parse_mention("<@U0BOT> who owns daily growth") == Who("daily growth")
