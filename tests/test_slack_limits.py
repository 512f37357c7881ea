"""Every interaction gets an answer within Slack's limits: oversized text is shortened,
never a 500; no block or message exceeds Block Kit's limits; typed dates are validated;
a button the bot no longer stands behind is "out of date"; deferred work fails politely."""

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, create_engine, select

from bot.views.oncall import schedule_messages
from core.settings import Settings
from schedules.people import Person
from schedules.queries import OnCall
from storage.enums import ShiftOrigin, TimeOffOrigin
from storage.models import TimeOff
from tests.conftest import make_settings
from tests.slack_fake import FakeSlack, RecordedCall, app_mention, block_actions, event_callback, post
from tests.test_slack_commands import run_command, section_texts
from tests.test_slack_planning import BOB

SECTION_LIMIT, HEADER_LIMIT, MAX_BLOCKS = 3000, 150, 50


def assert_within_block_kit_limits(message: dict[str, Any]) -> None:
    blocks = message.get("blocks", [])
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        limit = HEADER_LIMIT if block["type"] == "header" else SECTION_LIMIT
        if "text" in block:
            assert len(block["text"]["text"]) <= limit, block["type"]
        for element in block.get("elements", []):
            assert len(element.get("text", "")) <= SECTION_LIMIT if isinstance(element.get("text"), str) else True


@pytest.mark.parametrize(
    ("command", "prefix"),
    [("/runbook", ""), ("/oncall", "who "), ("/runbook", "aggregate "), ("/oncall", "schedule ")],
)
def test_thousands_of_typed_characters_get_a_short_answer(
    bot_url: str, slack: FakeSlack, command: str, prefix: str
) -> None:
    """Seen: 2,900+ characters echoed into a refusal broke the 3,000-character section limit,
    so the error handler itself failed and Slack got a 500."""
    typed = prefix + "<!channel> x&y " * 400  # 6,000 characters, and every one escapes longer
    answer = run_command(bot_url, slack, command, typed)
    assert_within_block_kit_limits(answer)
    assert "Something went wrong" not in section_texts(answer)
    assert "<!channel>" not in json.dumps(answer)


def test_a_mention_of_thousands_of_characters_is_answered_within_limits(bot_url: str, slack: FakeSlack) -> None:
    body = event_callback(app_mention("who owns " + "aggregate-growht " * 300, ts="1701000000.000200"))
    status, _, _ = post(f"{bot_url}/slack/events", body)
    assert status == 200
    reply = slack.wait_for("chat.postMessage")[0].body
    assert_within_block_kit_limits(reply)
    assert "Something went wrong" not in section_texts(reply)


def _person(index: int) -> Person:
    return Person(f"m{index}", f"Member {index} <!here>", f"U{index:07d}", "UTC")


def test_a_long_schedule_is_cut_into_pages_of_at_most_fifty_blocks() -> None:
    """Seen: `/oncall schedule 26` on a 1,000-member team was one reply of 108 blocks."""
    start = datetime(2027, 1, 4, 10, tzinfo=UTC)
    shifts = [
        OnCall("t", "Big team", "UTC", start + timedelta(weeks=w), start + timedelta(weeks=w + 1),
               _person(w), _person(w + 1), ShiftOrigin.ROTATION)
        for w in range(26)
    ]  # fmt: skip
    notes = [[f"Member {n} away: {'very long reason ' * 5}" for n in range(100)] for _ in shifts]
    messages = schedule_messages(shifts, "Europe/Berlin", notes)
    assert len(messages) > 1
    for message in messages:
        payload = message.payload()  # slack_sdk validates every block's limits here
        assert_within_block_kit_limits(payload)
    everything = "\n".join(section_texts(message.payload()) for message in messages)
    assert everything.count("Member 99 away") == 26  # nothing lost between pages


def _adhoc_rows(database_url: str) -> list[TimeOff]:
    engine = create_engine(Settings(database_url=make_settings(database_url).database_url).database_url)
    with Session(engine) as session:
        rows = list(session.exec(select(TimeOff).where(TimeOff.origin == TimeOffOrigin.ADHOC)))
    engine.dispose()
    return rows


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("away 2027-05-20 2027-13-01", "2027-13-01 is not a date"),
        ("away 9999-12-31", "9999-12-31 is out of range"),
        ("away 2027-02-29", "2027-02-29 is not a date in 2027"),
        ("away 2027-05-20 1/6/2027 beach", "1/6/2027 is not a date"),
    ],
)
def test_a_mistyped_date_is_refused_by_name_and_books_nothing(
    bot_url: str, slack: FakeSlack, database_url: str, typed: str, said: str
) -> None:
    """Seen: `2027-13-01` as the last day was acked "Booking … 2027-05-20 to 2027-05-20",
    then booked one day with the reason "2027-13-01"."""
    answer = run_command(bot_url, slack, "/oncall", typed, user_id=BOB)
    assert said in section_texts(answer) and "Booking" not in answer["text"]
    slack.assert_no_call("response/r1")
    assert _adhoc_rows(database_url) == []


@pytest.mark.parametrize(
    ("action_id", "value"),
    [("no_such_button", "1"), ("open_runbook:gone", "no-such-pipeline"), ("x" * 255, "y" * 3000)],
)
def test_an_unknown_or_stale_button_is_out_of_date(bot_url: str, slack: FakeSlack, action_id: str, value: str) -> None:
    """Seen: a tampered or unknown button got Bolt's 404 after 3 seconds."""
    body = block_actions(
        user_id=BOB,
        action_id=action_id,
        value=value,
        block_id="b1",
        message_blocks=[],
        response_url=slack.response_url("stale"),
    )
    status, _, _ = post(f"{bot_url}/slack/events", body)
    assert status == 200
    reply = slack.wait_for("response/stale")[0].body
    assert "out of date" in section_texts(reply) and reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False


def test_deferred_work_that_fails_answers_with_an_error_id(
    bot_url: str, slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A booking's re-plan runs after the ack; when it breaks, the user still hears so,
    with the id of the logged traceback, as from any other failure."""
    engine = create_engine(Settings(database_url=make_settings(database_url).database_url).database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE swaprequest"))
        connection.execute(text("DROP TABLE shift"))
    engine.dispose()
    ack = run_command(bot_url, slack, "/oncall", "away 2027-03-01 2027-03-05", user_id=BOB)
    assert ack["text"].startswith("Booking your time off")
    reply = section_texts(slack.wait_for("response/r1")[0].body)
    error_id = reply.split("error id `")[1][:8]
    assert any(error_id in record.getMessage() and record.exc_info for record in caplog.records)


class Held:
    """A fake Slack endpoint that holds its answer until released: whatever the bot sends
    there cannot finish before the test says so."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.reached = threading.Event()

    def __call__(self, _call: RecordedCall) -> dict[str, Any]:
        self.reached.set()
        self.release.wait(timeout=20)
        return {"ok": True}


@pytest.mark.parametrize(
    ("action_id", "value"), [("no_such_button", "1"), ("open_runbook:aggregate-growth", "aggregate-growth")]
)
def test_a_click_is_acked_before_its_answer_is_sent(bot_url: str, slack: FakeSlack, action_id: str, value: str) -> None:
    """Seen: with a slow `response_url` the ack waited for our post, past Slack's 3 s. The
    post is held open here; the 200 must arrive while it still is."""
    held = Held()
    slack.set_response("response/held", held)
    body = block_actions(
        user_id=BOB, action_id=action_id, value=value, block_id="b1", message_blocks=[],
        response_url=slack.response_url("held"),
    )  # fmt: skip
    try:
        assert post(f"{bot_url}/slack/events", body)[0] == 200
        assert not held.release.is_set()
        assert held.reached.wait(timeout=10)  # and the answer does go out
    finally:
        held.release.set()


def test_a_mention_is_acked_before_its_answer_is_posted(bot_url: str, slack: FakeSlack) -> None:
    """Seen: a rate-limited `chat.postMessage` (Retry-After) held the event's 200 back, so
    Slack would retry it."""
    held = Held()
    slack.set_response("chat.postMessage", held)
    try:
        assert post(f"{bot_url}/slack/events", event_callback(app_mention("next", ts="1701000000.000600")))[0] == 200
        assert held.reached.wait(timeout=10)
    finally:
        held.release.set()


@pytest.mark.parametrize("value", ["2147483648", "999999999999", "٤", "\uff14", "1\x00"])
def test_a_cancel_value_out_of_range_or_not_ascii_is_out_of_date(
    bot_url: str, slack: FakeSlack, database_url: str, value: str
) -> None:
    """Seen on PostgreSQL: values past a 32-bit id gave an error id; `int("٤")` is 4."""
    body = block_actions(
        user_id=BOB, action_id="cancel_time_off:1", value=value, block_id="b1", message_blocks=[],
        response_url=slack.response_url("bad"),
    )  # fmt: skip
    assert post(f"{bot_url}/slack/events", body)[0] == 200
    assert "out of date" in section_texts(slack.wait_for("response/bad")[0].body)


def test_a_nul_byte_in_typed_text_is_harmless(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    """Seen on PostgreSQL: a NUL in a reason or a pipeline name gave an error id (text
    columns refuse NUL); control characters are spaces to us."""
    for command, typed in (("/runbook", "aggregate\x00growth"), ("/oncall", "who a\x00b")):
        assert "Something went wrong" not in section_texts(run_command(bot_url, slack, command, typed))
    run_command(bot_url, slack, "/oncall", "away 2027-03-01 2027-03-02 ski\x00trip", user_id=BOB)
    assert "Time off booked" in section_texts(slack.wait_for("response/r1")[0].body)
    assert [row.reason for row in _adhoc_rows(database_url)] == ["ski trip"]
    body = block_actions(
        user_id=BOB, action_id="open_runbook:x", value="a\x00b", block_id="b1", message_blocks=[],
        response_url=slack.response_url("nul"),
    )  # fmt: skip
    assert post(f"{bot_url}/slack/events", body)[0] == 200
    assert "out of date" in section_texts(slack.wait_for("response/nul")[0].body)


def test_dates_joined_by_to_are_a_period(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    answer = run_command(bot_url, slack, "/oncall", "away 2027-03-01 to 2027-03-05 ski", user_id=BOB)
    assert answer["text"] == "Booking your time off 2027-03-01 to 2027-03-05…"
    slack.wait_for("response/r1")
    assert [(str(row.first_day), str(row.last_day), row.reason) for row in _adhoc_rows(database_url)] == [
        ("2027-03-01", "2027-03-05", "ski")
    ]
