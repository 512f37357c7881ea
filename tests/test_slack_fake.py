"""Tests of the Slack test double itself: every other bot test trusts it, so it must be right.

They drive it with the real slack_sdk clients and with Bolt, so a fake that drifted from
what those libraries send or accept fails here rather than silently in a bot test.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, Respond, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    app_mention,
    bolt_request,
    click_button,
    event_callback,
    parse_payload,
    post,
    sign,
    slash_command,
    submit_view,
    url_verification,
)

BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Incident* db is down"}},
    {
        "type": "section",
        "block_id": "summary",
        "text": {"type": "mrkdwn", "text": "Runbook"},
        "accessory": {
            "type": "button",
            "action_id": "open_runbook",
            "text": {"type": "plain_text", "text": "Open"},
            "value": "rb-42",
        },
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack_page",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": "page-7",
                "style": "primary",
            },
            {"type": "static_select", "action_id": "pick", "options": []},
        ],
    },
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def test_post_message_is_recorded_with_blocks_decoded(slack: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C0TEAM", text="db is down", blocks=BLOCKS)
    second = client.chat_postMessage(channel="U0A11CE", text="dm")

    call = slack.last("chat.postMessage")
    assert slack.calls_to("chat.postMessage")[0].body["blocks"] == BLOCKS
    assert call.body["channel"] == "U0A11CE"
    assert call.token == BOT_TOKEN and call.header("authorization") == f"Bearer {BOT_TOKEN}"
    assert first["ok"] and first["channel"] == "C0TEAM" and first["ts"] == "1700000000.000100"
    assert second["ts"] == "1700000000.000200"
    assert second["channel"] == "D0A11CE"  # Slack answers a post to a user with the DM id
    assert first["message"]["blocks"][2]["elements"] == BLOCKS[2]["elements"]
    assert all(b.get("block_id") for b in first["message"]["blocks"])  # Slack fills these in
    slack.assert_no_leak(BOT_TOKEN)


def test_assert_no_leak_spots_a_token_outside_authorization(slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C0TEAM", text=f"debug: token is {BOT_TOKEN}")
    with pytest.raises(AssertionError, match=r"chat\.postMessage: body"):
        slack.assert_no_leak(BOT_TOKEN)


def test_users_info_reports_configured_timezone(slack: FakeSlack, client: WebClient) -> None:
    slack.user_timezones["U0B0B"] = "Asia/Kolkata"

    bob = client.users_info(user="U0B0B")["user"]
    alice = client.users_info(user="U0A11CE")["user"]

    assert slack.last("users.info").body == {"user": "U0A11CE"}  # from the query string
    assert (bob["id"], bob["name"], bob["tz"], bob["tz_offset"]) == ("U0B0B", "bob", "Asia/Kolkata", 19800)
    assert alice["tz"] == "America/New_York" and alice["tz_offset"] in (-18000, -14400)


def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    response = WebhookClient(slack.response_url()).send(text="on it", response_type="in_channel")

    assert response.status_code == 200
    (call,) = slack.calls_to("response/r1")
    assert call.body == {"text": "on it", "response_type": "in_channel"}
    assert call.token is None


def test_rate_limit_is_retried_by_the_client_handler(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", headers={"Retry-After": "0"})  # keep the test fast
    client = WebClient(
        token=BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )

    result = client.chat_postMessage(channel="C0TEAM", text="hi")

    assert result["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]


def test_injected_failures_without_retry_surface_as_errors(slack: FakeSlack, client: WebClient) -> None:
    slack.fail_next("chat.postMessage", status=200, headers={}, body={"ok": False, "error": "not_in_channel"})
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0TEAM", text="hi")
    assert raised.value.response["error"] == "not_in_channel"

    slack.fail_next("chat.postMessage", status=0)  # dropped connection...
    assert client.chat_postMessage(channel="C0TEAM", text="hi")["ok"]  # ...retried by the default handler
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [200, 0, 200]


def test_set_response_overrides_the_canned_answer(slack: FakeSlack, client: WebClient) -> None:
    slack.set_response("conversations.info", lambda call: {"ok": True, "channel": {"id": call.body["channel"]}})
    assert client.conversations_info(channel="C9")["channel"] == {"id": "C9"}
    slack.set_response("conversations.info", None)
    assert client.conversations_info(channel="C0TEAM")["channel"]["name"] == "data-oncall"


def test_signed_headers_are_accepted_by_slack_sdk(slack: FakeSlack) -> None:
    body = slash_command("/oncall", "who", response_url=slack.response_url())
    headers = sign(body, SIGNING_SECRET)

    ts, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert SignatureVerifier(SIGNING_SECRET).is_valid(body, ts, signature)
    assert not SignatureVerifier("another-secret").is_valid(body, ts, signature)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sign('{"type":"event_callback"}')["Content-Type"] == "application/json"


def test_slash_command_fields_are_in_slack_order(slack: FakeSlack) -> None:
    body = slash_command("/oncall", "swap @bob", user_id="U0B0B", response_url=slack.response_url())

    fields = urllib.parse.parse_qsl(body, keep_blank_values=True)
    assert [k for k, _ in fields] == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert dict(fields)["user_name"] == "bob" and dict(fields)["text"] == "swap @bob"


@pytest.mark.parametrize(
    ("action_id", "value", "block_index"),
    [("ack_page", "page-7", 2), ("open_runbook", "rb-42", 1)],
)
def test_click_button_uses_the_posted_button(
    slack: FakeSlack, client: WebClient, action_id: str, value: str, block_index: int
) -> None:
    posted = client.chat_postMessage(channel="C0TEAM", text="db is down", blocks=BLOCKS)
    request_blocks = slack.last("chat.postMessage").body["blocks"]

    body = click_button(
        request_blocks,
        action_id,
        user_id="U0A11CE",
        message_ts=posted["ts"],
        response_url=slack.response_url(),
    )

    payload = parse_payload(body)
    (action,) = payload["actions"]
    # Auto-generated block_ids agree with the ones Slack (the fake) reported back.
    assert action["block_id"] == posted["message"]["blocks"][block_index]["block_id"]
    assert (action["type"], action["action_id"], action["value"]) == ("button", action_id, value)
    assert payload["type"] == "block_actions" and payload["user"]["username"] == "alice"
    assert payload["container"]["message_ts"] == posted["ts"] == payload["message"]["ts"]
    assert payload["message"]["blocks"] == posted["message"]["blocks"]
    assert body == urllib.parse.urlencode({"payload": urllib.parse.parse_qs(body)["payload"][0]})


def test_click_button_lists_what_is_available() -> None:
    with pytest.raises(AssertionError, match=r"'approve'.*ack_page \(button.*pick \(static_select"):
        click_button(BLOCKS, "approve", user_id="U0A11CE", response_url="http://x/response/r1")
    with pytest.raises(AssertionError, match="no button with action_id 'pick'"):
        click_button(BLOCKS, "pick", user_id="U0A11CE", response_url="http://x/response/r1")


def test_submit_view_builds_slack_state(slack: FakeSlack, client: WebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "override",
        "private_metadata": '{"schedule": "data"}',
        "title": {"type": "plain_text", "text": "Override"},
        "blocks": [
            {"type": "input", "block_id": "who", "element": {"type": "users_select", "action_id": "user"}},
            {
                "type": "input",
                "block_id": "why",
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": "reason"},
            },
            {
                "type": "input",
                "element": {
                    "type": "static_select",
                    "action_id": "length",
                    "options": [{"text": {"type": "plain_text", "text": "1 day"}, "value": "1d"}],
                },
            },
        ],
    }
    opened = client.views_open(trigger_id="t", view=view)["view"]

    payload = parse_payload(submit_view(opened, {"user": "U0B0B", "length": "1d"}, user_id="U0A11CE"))

    values = payload["view"]["state"]["values"]
    assert payload["type"] == "view_submission" and payload["view"]["id"] == opened["id"]
    assert payload["view"]["callback_id"] == "override"
    assert payload["view"]["private_metadata"] == '{"schedule": "data"}'
    assert values["who"] == {"user": {"type": "users_select", "selected_user": "U0B0B"}}
    assert values["why"] == {"reason": {"type": "plain_text_input", "value": None}}
    select_block = opened["blocks"][2]["block_id"]
    assert values[select_block]["length"]["selected_option"]["value"] == "1d"
    with pytest.raises(AssertionError, match="required input 'user'"):
        submit_view(opened, {"length": "1d"}, user_id="U0A11CE")
    with pytest.raises(AssertionError, match="not an option"):
        submit_view(opened, {"user": "U0B0B", "length": "2d"}, user_id="U0A11CE")


def test_wait_for_sees_late_calls_and_times_out_helpfully(slack: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C0TEAM", text="first")
    timer = threading.Timer(0.1, lambda: client.chat_update(channel="C0TEAM", ts=first["ts"], text="late"))
    timer.start()
    try:
        assert slack.wait_for("chat.update", timeout=5)[0].body["text"] == "late"
    finally:
        timer.join()

    started = time.monotonic()
    with pytest.raises(AssertionError) as raised:
        slack.wait_for("chat.postMessage", count=2, timeout=0.2)
    assert time.monotonic() - started < 2
    message = str(raised.value)
    assert "2 call(s) to 'chat.postMessage'" in message and "got 1" in message
    assert '"text":"first"' in message and "chat.update" in message


def test_post_returns_error_statuses_instead_of_raising(slack: FakeSlack) -> None:
    status, headers, text = post(f"{slack.base_url}/nowhere", "x=1", {"Content-Type": "text/plain"})
    assert (status, headers["Content-Type"]) == (404, "application/json; charset=utf-8")
    assert "unknown_path" in text


def test_bolt_accepts_every_builder(slack: FakeSlack) -> None:
    """The real consumer of the builders is Bolt: run each through a Bolt App."""
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=slack.api_url),
    )
    seen: dict[str, Any] = {}

    @app.command("/oncall")
    def command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        seen["command"] = command
        respond(text="ok")

    @app.action("ack_page")
    def action(ack: Ack, body: dict[str, Any], say: Say) -> None:
        ack()
        seen["action"] = body["actions"][0]
        say(text="acked")

    @app.event("app_mention")
    def mention(event: dict[str, Any], say: Say) -> None:
        seen["mention"] = event
        say(text="alice is on call")

    def dispatch(body: str, timestamp: int | None = None) -> int:
        return app.dispatch(bolt_request(body, SIGNING_SECRET, timestamp)).status

    assert dispatch(slash_command("/oncall", "who", response_url=slack.response_url("cmd"))) == 200
    assert slack.wait_for("response/cmd")[0].body["text"] == "ok"
    assert seen["command"]["text"] == "who" and seen["command"]["user_id"] == "U0A11CE"

    click = click_button(BLOCKS, "ack_page", user_id="U0B0B", response_url=slack.response_url())
    assert dispatch(click) == 200
    assert slack.wait_for("chat.postMessage")[0].body["text"] == "acked"
    assert seen["action"]["value"] == "page-7"

    assert dispatch(event_callback(app_mention("who is on call"))) == 200
    said = slack.wait_for("chat.postMessage", count=2)[1]
    assert said.body["text"] == "alice is on call"
    assert seen["mention"]["text"] == "<@U0BOT> who is on call"

    challenge = url_verification("c-123")
    response = app.dispatch(bolt_request(challenge))
    assert (response.status, response.body) == (200, '{"challenge": "c-123"}')

    stale = int(time.time()) - 600
    assert dispatch(slash_command("/oncall", "", response_url=slack.response_url()), timestamp=stale) == 401
    slack.assert_no_leak(BOT_TOKEN)
