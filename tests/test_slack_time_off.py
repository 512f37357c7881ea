"""Time off taken back from Slack: `/oncall away list` shows my upcoming bookings with a
Cancel button each; clicking it (the button read from the blocks the bot posted) cancels,
re-plans and is audited. Anyone else's click, a second click and an edited value are
refused with an ephemeral answer and change nothing."""

import copy
import json
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.views.away import bookings_message
from core.settings import Settings
from storage.db import make_engine
from storage.enums import AuditAction, FrontEnd, TimeOffOrigin
from storage.models import AuditEntry, TimeOff
from tests.conftest import NOW, make_settings, time_off_conflicts
from tests.slack_fake import FakeSlack, click_button, post
from tests.test_slack_commands import run_command, section_texts
from tests.test_slack_planning import ALICE, BOB, book_away

CANCEL = "cancel_time_off"


def _bookings(database_url: str) -> list[tuple[int, str, bool]]:
    """(id, member, still active) for every ad hoc booking."""
    engine = make_engine(Settings(database_url=make_settings(database_url).database_url).database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(TimeOff).where(TimeOff.origin == TimeOffOrigin.ADHOC)).all()
            return [(row.id or 0, row.member_id, row.cancelled_at is None) for row in rows]
    finally:
        engine.dispose()


def _audit(database_url: str, action: AuditAction) -> list[tuple[FrontEnd, str, str | None]]:
    engine = make_engine(Settings(database_url=make_settings(database_url).database_url).database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
            return [(row.front_end, row.actor, row.member_id) for row in rows]
    finally:
        engine.dispose()


def _listed(bot_url: str, slack: FakeSlack, user_id: str) -> dict[str, Any]:
    return run_command(bot_url, slack, "/oncall", "away list", user_id=user_id)


def _click(bot_url: str, slack: FakeSlack, blocks: list[Any], booking_id: int, user_id: str, name: str) -> str:
    """Click the Cancel button the bot drew for `booking_id`; the answers go to `name`."""
    body = click_button(
        blocks, f"{CANCEL}:{booking_id}", user_id=user_id, response_url=slack.response_url(name), is_ephemeral=True
    )
    status, _, answer = post(f"{bot_url}/slack/events", body)
    assert status == 200, answer
    return answer


def _answers(slack: FakeSlack, name: str, count: int) -> str:
    return "\n".join(section_texts(call.body) for call in slack.wait_for(f"response/{name}", count=count))


def test_my_bookings_are_listed_with_a_cancel_button_each(bot_url: str, slack: FakeSlack) -> None:
    book_away(bot_url, slack, "away 2027-03-01 2027-03-05 <!channel> ski", BOB)
    book_away(bot_url, slack, "away 2027-04-12", BOB)
    book_away(bot_url, slack, "away 2027-05-03 2027-05-04", ALICE)
    listed = _listed(bot_url, slack, BOB)
    text = section_texts(listed)
    assert "Mon 01 Mar 2027 to Fri 05 Mar 2027" in text and "Mon 12 Apr 2027" in text
    assert "May 2027" not in text  # only my own
    assert "<!channel>" not in json.dumps(listed) and "&lt;!channel&gt;" in text
    buttons = [block["accessory"] for block in listed["blocks"] if "accessory" in block]
    assert [button["text"]["text"] for button in buttons] == ["Cancel", "Cancel"]


def test_cancel_by_its_member_takes_it_back_replans_and_is_audited(
    bot_url: str, slack: FakeSlack, database_url: str
) -> None:
    book_away(bot_url, slack, "away 2027-03-01 2027-03-05 ski", BOB)
    [(booking, _, _)] = _bookings(database_url)
    listed = _listed(bot_url, slack, BOB)
    _click(bot_url, slack, listed["blocks"], booking, BOB, "cancel")
    replies = slack.wait_for("response/cancel", count=2)
    assert replies[0].body["replace_original"] is True  # the list, redrawn without it
    redrawn = section_texts(replies[0].body)
    assert f"#{booking}`" not in redrawn and "Family trip" in redrawn  # the team file's stays
    assert "Time off cancelled" in section_texts(replies[1].body) and f"#{booking}" in section_texts(replies[1].body)
    assert _bookings(database_url) == [(booking, "bob", False)]
    assert _audit(database_url, AuditAction.TIME_OFF_CANCELLED) == [(FrontEnd.SLACK, BOB, "bob")]
    assert time_off_conflicts(make_engine(make_settings(database_url).database_url)) == []


def test_a_second_click_is_refused_and_changes_nothing(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    book_away(bot_url, slack, "away 2027-03-01 2027-03-05", BOB)
    [(booking, _, _)] = _bookings(database_url)
    blocks = _listed(bot_url, slack, BOB)["blocks"]
    _click(bot_url, slack, blocks, booking, BOB, "first")
    slack.wait_for("response/first", count=2)
    _click(bot_url, slack, blocks, booking, BOB, "second")  # the old list, still on screen
    assert "already cancelled" in _answers(slack, "second", 1)
    slack.assert_no_call("response/second", where=lambda call: call.body.get("replace_original") is True)
    assert len(_audit(database_url, AuditAction.TIME_OFF_CANCELLED)) == 1


def test_a_click_by_someone_else_is_refused_and_changes_nothing(
    bot_url: str, slack: FakeSlack, database_url: str
) -> None:
    """Alice clicks the button Bob was shown (a forwarded screenshot, a crafted payload):
    who clicks is the signed user, and only Bob may cancel Bob's time off."""
    book_away(bot_url, slack, "away 2027-03-01 2027-03-05", BOB)
    [(booking, _, _)] = _bookings(database_url)
    blocks = _listed(bot_url, slack, BOB)["blocks"]
    _click(bot_url, slack, blocks, booking, ALICE, "alice")
    assert "not yours" in _answers(slack, "alice", 1)
    assert _bookings(database_url) == [(booking, "bob", True)]
    assert _audit(database_url, AuditAction.TIME_OFF_CANCELLED) == []


def test_an_edited_value_cannot_cancel_someone_elses_booking(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    book_away(bot_url, slack, "away 2027-03-01 2027-03-05", BOB)
    book_away(bot_url, slack, "away 2027-05-03 2027-05-04", ALICE)
    bob_booking = next(i for i, member, _ in _bookings(database_url) if member == "bob")
    alice_blocks = _listed(bot_url, slack, ALICE)["blocks"]
    alice_booking = next(i for i, member, _ in _bookings(database_url) if member == "alice")
    edited = copy.deepcopy(alice_blocks)
    for block in edited:
        if "accessory" in block:
            block["accessory"]["value"] = str(bob_booking)
    _click(bot_url, slack, edited, alice_booking, ALICE, "edited")
    assert "not yours" in _answers(slack, "edited", 1)
    assert sorted(active for _, _, active in _bookings(database_url)) == [True, True]


def test_nonsense_values_are_out_of_date_buttons(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    book_away(bot_url, slack, "away 2027-03-01 2027-03-05", BOB)
    [(booking, _, _)] = _bookings(database_url)
    blocks = _listed(bot_url, slack, BOB)["blocks"]
    for index, value in enumerate(["abc", "-1", "9" * 40, "x" * 3000, "", "99999"]):
        edited = copy.deepcopy(blocks)
        for block in edited:
            if "accessory" in block:
                block["accessory"]["value"] = value
        _click(bot_url, slack, edited, booking, BOB, f"bad{index}")
        reply = _answers(slack, f"bad{index}", 1)
        assert "out of date" in reply or "there is no time off #99999" in reply, reply
    assert _bookings(database_url) == [(booking, "bob", True)]


def test_time_off_from_the_team_file_is_listed_without_a_button(bot_url: str, slack: FakeSlack) -> None:
    listed = _listed(bot_url, slack, BOB)
    [block] = [block for block in listed["blocks"] if "Family trip" in block.get("text", {}).get("text", "")]
    assert "from the team file" in block["text"]["text"] and "accessory" not in block


def test_a_stranger_is_told_there_is_nothing_to_list(bot_url: str, slack: FakeSlack) -> None:
    answer = section_texts(_listed(bot_url, slack, "U0STRANGER"))
    assert "not on the" in answer and "rotation" in answer


def test_a_long_list_is_one_message_a_cancel_can_redraw_in_place() -> None:
    """Cut into pages, a Cancel on page 2 would redraw page 2 as page 1."""
    bookings = [
        TimeOff(id=n, member_id="bob", first_day=date(2027, 1, 1) + timedelta(days=2 * n),
                last_day=date(2027, 1, 1) + timedelta(days=2 * n), reason="", origin=TimeOffOrigin.ADHOC,
                created_at=NOW)
        for n in range(1, 62)
    ]  # fmt: skip
    payload = bookings_message(bookings).payload()
    assert len(payload["blocks"]) <= 50
    assert "13 later ones are not shown" in section_texts(payload) and "oncall away --list" in section_texts(payload)
