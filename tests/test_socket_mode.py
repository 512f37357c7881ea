"""The bot over Socket Mode: Slack's envelopes through a fake WebSocket server to the real
app and slack_sdk's builtin client, answers checked in the ack and at the fake Web API."""

from collections.abc import Iterator
from typing import Any

import pytest

from bot.server import bolt_app, socket_mode_handler
from core.clock import Clock
from tests.conftest import make_settings
from tests.slack_fake import (
    BOT_TOKEN,
    FakeSlack,
    FakeSocketMode,
    app_mention,
    click_button,
    event_callback,
    parse_payload,
    slash_command,
)
from tests.test_slack_commands import section_texts
from usecases.runtime import open_runtime

APP_TOKEN = "xapp-test"


@pytest.fixture
def socket_mode(database_url: str, clock: Clock, slack: FakeSlack) -> Iterator[FakeSocketMode]:
    """Slack's side of a connected bot, as `oncall serve` connects it with SLACK_APP_TOKEN."""
    with FakeSocketMode() as server:
        slack.socket_mode_url = server.url
        runtime = open_runtime(make_settings(database_url, slack_api_url=slack.api_url), clock)
        handler = socket_mode_handler(bolt_app(runtime, BOT_TOKEN), APP_TOKEN)
        server.wait_connected()
        yield server
        handler.close()  # type: ignore[no-untyped-call]
        runtime.engine.dispose()


def _command(socket_mode: FakeSocketMode, slack: FakeSlack, command: str, text: str) -> dict[str, Any]:
    payload = parse_payload(slash_command(command, text, response_url=slack.response_url()))
    ack = socket_mode.send("slash_commands", payload)
    answer: dict[str, Any] = ack["payload"]
    return answer


def test_the_app_token_opens_the_connection(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    assert slack.last("apps.connections.open").token == APP_TOKEN
    assert socket_mode.connections == 1


def test_a_slash_command_is_answered_in_the_ack(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    answer = _command(socket_mode, slack, "/oncall", "now")
    assert answer["response_type"] == "ephemeral"
    assert "Primary: <@U0DA7A0>" in section_texts(answer) and "Secondary: <@U0A11CE>" in section_texts(answer)


def test_text_containing_payload_reaches_the_bot(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    """Bolt's HTTP parsing defect (bot/bolt_fix.py) does not exist in Socket Mode."""
    assert "payload-size" in section_texts(_command(socket_mode, slack, "/runbook", "payload-size"))


def test_a_button_click_replaces_the_choice_with_the_runbook(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    choice = _command(socket_mode, slack, "/runbook", "agregate-growht")
    click = click_button(
        choice["blocks"], "open_runbook:aggregate-growth", user_id="U0A11CE", response_url=slack.response_url("r2")
    )
    ack = socket_mode.send("interactive", parse_payload(click))
    assert set(ack) == {"envelope_id"}  # a bare ack; the answer goes to response_url
    reply = slack.wait_for("response/r2")[0].body
    assert reply["replace_original"] is True
    assert reply["blocks"][0]["text"]["text"] == "Aggregate Growth for Investors"


def test_a_mention_is_answered_in_its_thread(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    event = parse_payload(event_callback(app_mention("who is on call?", ts="1701000000.000200")))
    ack = socket_mode.send("events_api", event)
    assert set(ack) == {"envelope_id"}
    call = slack.wait_for("chat.postMessage")[0]
    assert (call.body["channel"], call.body["thread_ts"]) == ("C0TEAM", "1701000000.000200")
    assert "Primary: <@U0DA7A0>" in section_texts(call.body)
    assert call.token == BOT_TOKEN


def test_time_off_is_booked_listed_and_cancelled_by_button(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    """The deferred booking, the list and the Cancel button, over the WebSocket."""
    bob = "U0B0B00"
    payload = parse_payload(
        slash_command("/oncall", "away 2027-03-01 2027-03-05", user_id=bob, response_url=slack.response_url())
    )
    assert socket_mode.send("slash_commands", payload)["payload"]["text"].startswith("Booking your time off")
    assert "Time off booked" in section_texts(slack.wait_for("response/r1")[0].body)
    listed = parse_payload(slash_command("/oncall", "away list", user_id=bob, response_url=slack.response_url()))
    blocks = socket_mode.send("slash_commands", listed)["payload"]["blocks"]
    [button] = [block["accessory"] for block in blocks if "accessory" in block]
    click = click_button(blocks, button["action_id"], user_id=bob, response_url=slack.response_url("r2"))
    assert set(socket_mode.send("interactive", parse_payload(click))) == {"envelope_id"}
    replies = slack.wait_for("response/r2", count=2)
    assert "Time off cancelled" in section_texts(replies[1].body)


def test_a_redelivered_event_is_answered_once(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    event = parse_payload(event_callback(app_mention("who is on call?", ts="1701000000.000300")))
    for _ in range(3):
        assert set(socket_mode.send("events_api", event)) == {"envelope_id"}
    slack.wait_for("chat.postMessage")
    slack.assert_no_call("chat.postMessage", where=lambda call: len(slack.calls_to("chat.postMessage")) > 1)
