"""`/oncall away`, `/oncall fairness` and holiday notes in `/oncall schedule`, through the
real HTTP server with Slack's signed, form-encoded slash commands."""

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from core.settings import Settings
from storage.db import make_engine
from storage.models import Shift, TimeOff
from tests.conftest import make_settings
from tests.slack_fake import FakeSlack
from tests.test_slack_commands import run_command, section_texts

ALICE, BOB = "U0A11CE", "U0B0B00"


def book_away(bot_url: str, slack: FakeSlack, text: str, user_id: str) -> dict[str, Any]:
    """`/oncall away …` as Slack sends it: the ack says it is booking (at once, within
    Slack's three seconds), the answer arrives through `response_url`."""
    earlier = len(slack.calls_to("response/r1"))
    ack = run_command(bot_url, slack, "/oncall", text, user_id=user_id)
    assert ack["response_type"] == "ephemeral" and ack["text"].startswith("Booking your time off")
    answer = slack.wait_for("response/r1", count=earlier + 1)[-1]
    assert answer.body["response_type"] == "ephemeral"
    return answer.body


def _rows(database_url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    engine = make_engine(Settings(database_url=make_settings(database_url).database_url).database_url)
    with Session(engine) as session:
        away = [(t.member_id, f"{t.first_day}..{t.last_day}") for t in session.exec(select(TimeOff)).all()]
        shifts = [
            (s.start.isoformat(), s.primary_id, s.secondary_id)
            for s in session.exec(select(Shift).order_by(Shift.start)).all()  # type: ignore[arg-type]
        ]
    engine.dispose()
    return away, shifts


def test_away_books_the_askers_own_time_off_and_redraws_the_future(
    bot_url: str, slack: FakeSlack, database_url: str
) -> None:
    _, before = _rows(database_url)
    answer = book_away(bot_url, slack, "away 2027-02-01 2027-02-14 <!channel> ski", BOB)
    text = section_texts(answer)
    assert "Time off booked:* Bob, Mon 01 Feb 2027 to Sun 14 Feb 2027" in text
    assert "<!channel>" not in json_text(answer)  # typed text never pings anyone
    away, after = _rows(database_url)
    assert ("bob", "2027-02-01..2027-02-14") in away
    frozen_until = datetime(2026, 12, 15, 12, tzinfo=UTC).isoformat()
    assert [row for row in after if row[0] < frozen_until] == [row for row in before if row[0] < frozen_until]
    february = [row for row in after if "2027-02-01" <= row[0][:10] <= "2027-02-14"]
    assert february and all("bob" not in row[1:] for row in february)


def json_text(answer: dict[str, object]) -> str:
    return json.dumps(answer)


def test_away_for_someone_not_on_the_rotation_changes_nothing(
    bot_url: str, slack: FakeSlack, database_url: str
) -> None:
    before = _rows(database_url)
    answer = book_away(bot_url, slack, "away 2027-02-01 2027-02-03", "U0STRANGER")
    assert "not on the Data Engineering rotation" in section_texts(answer)
    assert _rows(database_url) == before


def test_away_with_bad_dates_gets_help_and_changes_nothing(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    before = _rows(database_url)
    for typed in ("away", "away tomorrow", "away 2027-02-10 2027-02-01", "away 2027-02-30 2027-03-01"):
        text = section_texts(run_command(bot_url, slack, "/oncall", typed))
        assert "/oncall away" in text or "before the first day" in text, typed
    assert _rows(database_url) == before


def test_away_inside_the_freeze_window_says_to_ask_for_a_swap(bot_url: str, slack: FakeSlack) -> None:
    # Alice is secondary on the shift running now (30 Nov - 7 Dec): frozen, so it stays hers
    text = section_texts(book_away(bot_url, slack, "away 2026-12-02 2026-12-03", ALICE))
    assert "You are still secondary" in text and "swap" in text


def test_fairness_shows_the_table_in_a_code_block(bot_url: str, slack: FakeSlack) -> None:
    text = section_texts(run_command(bot_url, slack, "/oncall", "fairness"))
    assert text.startswith("Fairness: Data Engineering, next 53 weeks\n```member")  # all stored ahead
    for metric in ("primary", "secondary", "holiday_days", "weekend_days", "major_holidays", "back_to_back"):
        assert f"\n{metric}" in text
    assert re.search(r"\nconflicts +\d+ +0 ", text)  # limit 0: the frozen weeks have no conflicts


def test_schedule_notes_holidays_and_time_off(bot_url: str, slack: FakeSlack) -> None:
    text = section_texts(run_command(bot_url, slack, "/oncall", "schedule 6"))
    assert "Christmas Day (Alice, Bob, Charlie, Dana)" in text
    assert "Boxing Day (Bob, Dana)" in text or "Second Day of Christmas (Dana)" in text


def test_away_that_empties_a_week_is_refused_in_the_answer_and_changes_nothing(
    bot_url: str, slack: FakeSlack, database_url: str
) -> None:
    book_away(bot_url, slack, "away 2027-03-02 2027-03-05", ALICE)
    book_away(bot_url, slack, "away 2027-03-02 2027-03-05", BOB)
    before = _rows(database_url)
    text = section_texts(book_away(bot_url, slack, "away 2027-03-02 2027-03-05", "U0C4A12"))  # Charlie
    assert ":warning:" in text and "2027-03-01" in text and "only dana is available" in text
    assert _rows(database_url) == before
