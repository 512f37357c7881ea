"""What Slack's transport promises: signatures, url_verification, health, robustness."""

import json
import logging
import time
import urllib.request
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import text
from sqlmodel import create_engine

from core.settings import Settings
from tests.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    bolt_request,
    post,
    sign,
    slash_command,
    url_verification,
)
from tests.test_slack_commands import run_command, section_texts


def _row_count(database_url: str) -> int:
    engine = create_engine(Settings(database_url=database_url).database_url)
    with engine.connect() as connection:
        tables = ("team", "member", "pipeline", "shift", "timeoff", "swaprequest", "announcement")
        count = sum(int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()) for table in tables)
    engine.dispose()
    return count


BAD_HEADERS: dict[str, Callable[[str], dict[str, str]]] = {
    "forged": lambda body: sign(body, secret="not-the-secret"),
    "stale": lambda body: sign(body, timestamp=int(time.time()) - 301),
    "missing": lambda body: {"Content-Type": "application/x-www-form-urlencoded"},
    "other-body": lambda body: sign(body + "&text=x"),
}


@pytest.mark.parametrize("case", BAD_HEADERS)
def test_bad_signatures_get_401_and_change_nothing(
    bot_url: str, slack: FakeSlack, database_url: str, case: str
) -> None:
    body = slash_command("/oncall", "now", response_url=slack.response_url())
    before = _row_count(database_url)
    status, _, answer = post(f"{bot_url}/slack/events", body, BAD_HEADERS[case](body))
    assert status == 401, answer
    assert _row_count(database_url) == before
    assert [call.method for call in slack.calls if call.method != "auth.test"] == []


def test_url_verification_echoes_the_challenge(bot_url: str) -> None:
    status, _, answer = post(
        f"{bot_url}/slack/events", url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    )
    assert status == 200
    assert json.loads(answer)["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


def test_healthz_reports_the_database(bot_url: str) -> None:
    with urllib.request.urlopen(f"{bot_url}/healthz", timeout=5) as response:
        assert response.status == 200
        health = json.loads(response.read())
        assert health == {"ok": True, "database": "up", "scheduler": {"state": "off"}, "oldest_overdue": None}


def test_stock_bolt_still_has_the_payload_defect(bot_url: str, slack: FakeSlack) -> None:
    """Guards the workaround in bot/bolt_fix.py: once Bolt is fixed this fails, and the
    workaround can go. Ours answers the same request."""
    app = App(client=WebClient(token=BOT_TOKEN, base_url=slack.api_url), signing_secret=SIGNING_SECRET)
    app.command("/runbook")(lambda ack: ack("ok"))
    body = slash_command("/runbook", "payload-size", response_url=slack.response_url())
    stock = app.dispatch(bolt_request(body))
    status, _, answer = post(f"{bot_url}/slack/events", body)
    assert (stock.status, status) == (404, 200)
    assert "payload-size" in answer  # the bot's own answer: no such run book


def test_unexpected_failure_is_logged_with_an_id_shown_to_the_user(
    bot_url: str, slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(Settings(database_url=database_url).database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE swaprequest"))
        connection.execute(text("DROP TABLE shift"))
    engine.dispose()
    with caplog.at_level(logging.ERROR):
        answer = section_texts(run_command(bot_url, slack, "/oncall", "now"))
    error_id = answer.split("error id `")[1][:8]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert BOT_TOKEN not in caplog.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(["/oncall", "/runbook"]),
    typed=st.text(st.characters(codec="utf-8"), max_size=80),
)
def test_any_text_gets_a_helpful_answer(bot_url: str, slack: FakeSlack, command: str, typed: str) -> None:
    answer = run_command(bot_url, slack, command, typed)
    assert answer["blocks"], answer
    assert "Something went wrong" not in section_texts(answer)
