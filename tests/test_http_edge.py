"""The HTTP edge in front of Bolt (bot/edge.py): size, then signature on the raw bytes,
then shape; bodies never logged. Everything through the real waitress server."""

import json
import logging
import time
from urllib.parse import quote

import pytest

from bot.edge import MAX_BODY_BYTES
from tests.slack_fake import (
    FakeSlack,
    app_mention,
    block_actions,
    event_callback,
    post,
    sign,
    slash_command,
)

FORM = "application/x-www-form-urlencoded"
ATTACKER_CHANNEL = "C0ATTACK"


def _attacks(slack: FakeSlack) -> dict[str, str]:
    """Bodies whose error answer would land where the attacker chose."""
    url = slack.response_url("attacker")
    return {
        "command": slash_command("/oncall", "now", channel_id=ATTACKER_CHANNEL, response_url=url),
        "button": block_actions(
            user_id="U0A11CE",
            action_id="open_runbook:x",
            value="x",
            block_id="b",
            message_blocks=[],
            channel_id=ATTACKER_CHANNEL,
            response_url=url,
        ),
        "mention": event_callback(app_mention("who is on call", channel=ATTACKER_CHANNEL)),
    }


def _slack_calls(slack: FakeSlack) -> list[str]:
    """What the bot called, less the `auth.test` Bolt makes when the app is built."""
    return [call.method for call in slack.calls if call.method != "auth.test"]


def _assert_nothing_reached_slack(slack: FakeSlack) -> None:
    slack.assert_no_call("chat.postMessage")
    slack.assert_no_call("response/attacker", wait=0)
    assert _slack_calls(slack) == []


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "12.5", "nan", "9" * 5000])
@pytest.mark.parametrize("kind", ["command", "button", "mention"])
def test_a_malformed_timestamp_is_401_and_nothing_is_posted(
    bot_url: str, slack: FakeSlack, timestamp: str, kind: str
) -> None:
    """slack_sdk's verifier raises on a non-numeric timestamp; that must never reach the
    error handler, which would post ":boom:" into the attacker's channel or response_url."""
    body = _attacks(slack)[kind]
    headers = {**sign(body), "X-Slack-Request-Timestamp": timestamp}
    status, _, answer = post(f"{bot_url}/slack/events", body, headers)
    assert status == 401, answer
    _assert_nothing_reached_slack(slack)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Signature": "v0=" + "0" * 64},  # no timestamp
        {"X-Slack-Request-Timestamp": str(int(time.time()))},  # no signature
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "garbage"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=é"},
    ],
)
def test_missing_or_garbled_signature_headers_are_401(bot_url: str, slack: FakeSlack, headers: dict[str, str]) -> None:
    body = _attacks(slack)["command"]
    status, _, _ = post(f"{bot_url}/slack/events", body, {"Content-Type": FORM, **headers})
    assert status == 401
    _assert_nothing_reached_slack(slack)


MALFORMED = {
    "payload not JSON": ("payload=notjson", FORM),
    "payload bad escape": ("payload=%ZZ", FORM),
    "payload a JSON list": ("payload=%5B1%5D", FORM),
    "JSON null": ("null", "application/json"),
    "JSON deeply nested": ('{"a":' * 100_000 + "1" + "}" * 100_000, "application/json"),
    "JSON list nested": ("[" * 100_000 + "]" * 100_000, "application/json"),
    "brace not JSON": ("{not json", "application/json"),
    "brace as form": ("{not json", FORM),
    "event a string": ('{"type":"event_callback","event":"x"}', "application/json"),
    "actions a string": ("payload=" + quote('{"type":"block_actions","actions":"x"}'), FORM),
    "actions not objects": ("payload=" + quote('{"type":"block_actions","actions":[1]}'), FORM),
    "view a number": ("payload=" + quote('{"type":"view_submission","view":1}'), FORM),
    "authorizations a number": ('{"type":"event_callback","authorizations":5}', "application/json"),
    "user a number": ("payload=" + quote('{"type":"block_actions","user":5,"actions":[{"action_id":5}]}'), FORM),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_unsigned_malformed_bodies_are_401_before_any_parsing(bot_url: str, slack: FakeSlack, case: str) -> None:
    body, content_type = MALFORMED[case]
    status, _, answer = post(f"{bot_url}/slack/events", body, {"Content-Type": content_type})
    assert (status, json.loads(answer)) == (401, {"error": "invalid request"})
    assert _slack_calls(slack) == []


@pytest.mark.parametrize("case", MALFORMED)
def test_signed_malformed_bodies_are_400_not_500(bot_url: str, slack: FakeSlack, case: str) -> None:
    body, content_type = MALFORMED[case]
    status, _, answer = post(f"{bot_url}/slack/events", body, {**sign(body), "Content-Type": content_type})
    assert status == 400, answer
    assert json.loads(answer)["error"]
    assert _slack_calls(slack) == []


def test_ssl_check_is_answered_only_when_signed(bot_url: str, slack: FakeSlack) -> None:
    body = "ssl_check=1&token=legacy-verification-token"
    unsigned, _, _ = post(f"{bot_url}/slack/events", body, {"Content-Type": FORM})
    signed, _, _ = post(f"{bot_url}/slack/events", body)
    assert (unsigned, signed) == (401, 200)
    assert _slack_calls(slack) == []


@pytest.mark.parametrize("signed", [False, True])
def test_a_body_over_the_limit_is_413_whether_signed_or_not(bot_url: str, slack: FakeSlack, signed: bool) -> None:
    body = slash_command("/oncall", "now " + "x" * MAX_BODY_BYTES, response_url=slack.response_url("attacker"))
    status, _, answer = post(f"{bot_url}/slack/events", body, sign(body) if signed else {"Content-Type": FORM})
    assert status == 413, answer
    _assert_nothing_reached_slack(slack)


def test_a_body_at_the_limit_gets_through_the_size_gate(bot_url: str, slack: FakeSlack) -> None:
    """The limit itself is allowed: the 401 shows the request went on to the signature."""
    status, _, _ = post(f"{bot_url}/slack/events", "a" * MAX_BODY_BYTES, {"Content-Type": FORM})
    assert status == 401


MARKER = "MARKER-8d1c6e0f"


@pytest.mark.parametrize(
    ("case", "body", "signed", "status"),
    [
        ("unsigned", f"payload={MARKER}", False, 401),
        ("oversize", f"text={MARKER}" + "x" * MAX_BODY_BYTES, False, 413),
        ("signed but malformed", f"payload={MARKER}", True, 400),
    ],
)
def test_refused_requests_log_one_short_line_and_never_the_body(
    bot_url: str, caplog: pytest.LogCaptureFixture, case: str, body: str, signed: bool, status: int
) -> None:
    with caplog.at_level(logging.DEBUG):
        answer, _, _ = post(f"{bot_url}/slack/events", body, sign(body) if signed else {"Content-Type": FORM})
    assert answer == status
    assert MARKER not in caplog.text
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refusals) == 1 and len(refusals[0]) < 120, refusals
    assert refusals[0].startswith("refused POST /slack/events: ") and f"({len(body.encode())} bytes)" in refusals[0]


def test_other_paths_and_methods_are_404(bot_url: str) -> None:
    status, _, _ = post(f"{bot_url}/elsewhere", "x=1")
    assert status == 404
