"""Events answered once per `event_id`: Slack retries what it thinks went unanswered
(`X-Slack-Retry-Num`), maybe to another instance, so the receipt lives in the database."""

import json
import logging
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import create_engine
from waitress.server import TcpWSGIServer, create_server

from bot.server import http_app
from core.clock import Clock
from core.settings import Settings
from tests.conftest import make_settings
from tests.slack_fake import FakeSlack, app_mention, event_callback, post, sign
from usecases.runtime import open_runtime


def _retry(headers: dict[str, str], number: int) -> dict[str, str]:
    return {**headers, "X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}


def test_a_retried_mention_is_answered_once(bot_url: str, slack: FakeSlack) -> None:
    """Seen: a retried `app_mention` was answered twice."""
    body = event_callback(app_mention("who is on call", ts="1701000000.000300"))
    headers = sign(body)
    assert post(f"{bot_url}/slack/events", body, headers)[0] == 200
    slack.wait_for("chat.postMessage")
    for number in (1, 2, 3):
        assert post(f"{bot_url}/slack/events", body, _retry(sign(body), number))[0] == 200
    slack.assert_no_call("chat.postMessage", where=lambda call: len(slack.calls_to("chat.postMessage")) > 1)
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_different_events_are_each_answered(bot_url: str, slack: FakeSlack) -> None:
    for ts in ("1701000000.000400", "1701000000.000500"):
        assert post(f"{bot_url}/slack/events", event_callback(app_mention("next", ts=ts)))[0] == 200
    assert len(slack.wait_for("chat.postMessage", count=2)) == 2


def _deliver_at_once(urls: list[str], body: str) -> list[int]:
    """The same delivery to each of `urls` at the same moment, as retries numbered 0, 1, …"""
    statuses: list[int] = []

    def deliver(url: str, number: int) -> None:
        statuses.append(post(f"{url}/slack/events", body, _retry(sign(body), number))[0])

    threads = [threading.Thread(target=deliver, args=(url, n)) for n, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


@pytest.fixture
def second_instance(database_url: str, clock: Clock, slack: FakeSlack, bot_url: str) -> Iterator[str]:
    """Another `oncall serve` on the same database (`bot_url` made it first)."""
    runtime = open_runtime(make_settings(database_url, slack_api_url=slack.api_url), clock)
    server = create_server(http_app(runtime), host="127.0.0.1", port=0, threads=4)
    assert isinstance(server, TcpWSGIServer) and server.socket is not None
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    server.task_dispatcher.shutdown(timeout=5)
    server.close()
    runtime.engine.dispose()


def test_a_delivery_and_its_retry_at_once_on_two_instances_are_answered_once(
    bot_url: str, second_instance: str, slack: FakeSlack
) -> None:
    for round_number in range(5):
        body = event_callback(app_mention("who is on call", ts=f"1701000001.00{round_number}000"))
        statuses = _deliver_at_once([bot_url, second_instance, bot_url, second_instance], body)
        assert statuses == [200] * 4
    replies = slack.wait_for("chat.postMessage", count=5)
    slack.assert_no_call("chat.postMessage", where=lambda call: len(slack.calls_to("chat.postMessage")) > 5)
    assert len(replies) == 5


def test_a_database_failure_before_the_listener_is_a_503_logged_with_its_traceback(
    bot_url: str, slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Seen: a failing receipt table answered 400 "not a Slack payload" at WARNING; Slack
    must retry instead, and the operator must see why (never the body)."""
    engine = create_engine(Settings(database_url=make_settings(database_url).database_url).database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE eventreceipt"))
    engine.dispose()
    body = event_callback(app_mention("who is on call <!channel> secret-words", ts="1701000000.000700"))
    with caplog.at_level(logging.INFO):
        status, _, answer = post(f"{bot_url}/slack/events", body)
    assert (status, json.loads(answer)) == (503, {"error": "try again"})
    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert record.exc_info is not None and "secret-words" not in caplog.text
    slack.assert_no_call("chat.postMessage")
