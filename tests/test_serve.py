"""`oncall serve` as a real process: start-up errors, listen address, body cap, graceful
shutdown on SIGTERM, and `/healthz` in Socket Mode."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlmodel import Session, select

from bot.server import bolt_app
from core.clock import Clock
from core.settings import Settings
from storage.db import make_engine
from storage.models import TimeOff
from tests.conftest import TEAM_FILE, make_settings
from tests.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    FakeSocketMode,
    block_actions,
    bolt_request,
    post,
    slash_command,
)
from usecases.runtime import open_runtime

SERVE = [sys.executable, "-c", "from cli.main import main; main()", "serve"]
START_TIMEOUT = 60.0
BOB = "U0B0B00"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(slack: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    """What `oncall serve` reads, and nothing of the developer's (conftest clears the rest)."""
    inherited = {name: value for name, value in os.environ.items() if name != "HOST"}
    return {
        **inherited,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "ONCALL_TEAM_FILE": str(TEAM_FILE),
        "PORT": str(_free_port()),
        "ONCALL_ANNOUNCEMENTS": "false",  # these tests are about serving; tests/test_announce_processes.py posts
        **extra,
    }


def _healthz(host: str, port: str) -> int:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """`oncall serve` running and healthy (bounded wait); killed if a test left it up."""
    process = subprocess.Popen([*SERVE, *args], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited {process.returncode}: {process.communicate()[1]}")
            try:
                if _healthz("127.0.0.1", env["PORT"]) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not become healthy")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_a_token_slack_refuses_is_one_line_and_exit_2(slack: FakeSlack, database_url: str) -> None:
    slack.set_response("auth.test", {"ok": False, "error": "invalid_auth"})
    done = subprocess.run(SERVE, env=_environment(slack, database_url), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: SLACK_BOT_TOKEN was refused by Slack (auth.test: invalid_auth): "
        "see the README section 'Create the Slack app'"
    ]
    assert "Traceback" not in done.stderr and BOT_TOKEN not in done.stderr


def test_a_refused_app_token_is_one_line_and_exit_2(slack: FakeSlack, database_url: str) -> None:
    env = _environment(slack, database_url, SLACK_APP_TOKEN="xapp-revoked")
    done = subprocess.run(SERVE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "error: SLACK_APP_TOKEN was refused by Slack (apps.connections.open: invalid_auth)" in done.stderr
    assert "Traceback" not in done.stderr and "xapp-revoked" not in done.stderr


def test_host_limits_the_listening_interface(slack: FakeSlack, database_url: str) -> None:
    """127.0.0.2 is loopback too, so it reaches a server on all interfaces, not one
    bound to 127.0.0.1."""
    env = _environment(slack, database_url)
    with serving(env, "--host", "127.0.0.1") as process:
        try:
            _healthz("127.0.0.2", env["PORT"])
            raise AssertionError("reached a server bound to 127.0.0.1 through 127.0.0.2")
        except urllib.error.URLError as error:
            assert isinstance(error.reason, ConnectionRefusedError)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    with serving(_environment(slack, database_url, PORT=env["PORT"])):
        assert _healthz("127.0.0.2", env["PORT"]) == 200  # the default is every interface


def test_waitress_refuses_an_oversized_body_before_reading_it(slack: FakeSlack, database_url: str) -> None:
    """Announced over the limit: 413 at once, without the client sending a byte of it."""
    env = _environment(slack, database_url)
    with serving(env), socket.create_connection(("127.0.0.1", int(env["PORT"])), timeout=10) as connection:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\n\r\n{"
        )
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413", status_line


def _time_off(database_url: str) -> list[tuple[str, date, date]]:
    engine = make_engine(Settings(database_url=database_url).database_url)
    with Session(engine) as session:
        rows = [(row.member_id, row.first_day, row.last_day) for row in session.exec(select(TimeOff))]
    engine.dispose()
    return rows


def test_sigterm_right_after_the_ack_still_books_and_answers(slack: FakeSlack, database_url: str) -> None:
    """`/oncall away` re-plans after its ack and answers through response_url; SIGTERM at
    once must let that finish, then exit 0."""
    env = _environment(slack, database_url)
    first = date.today() + timedelta(days=60)
    last = first + timedelta(days=4)
    body = slash_command("/oncall", f"away {first} {last}", user_id=BOB, response_url=slack.response_url())
    with serving(env) as process:
        status, _, ack = post(f"http://127.0.0.1:{env['PORT']}/slack/events", body)
        process.send_signal(signal.SIGTERM)
        assert status == 200 and json.loads(ack)["text"].startswith("Booking your time off")
        assert process.wait(timeout=60) == 0
    assert ("bob", first, last) in _time_off(database_url)
    answers = slack.calls_to("response/r1")  # already there: the process waited for it
    assert len(answers) == 1 and "Time off booked" in json.dumps(answers[0].body)


def test_socket_mode_still_answers_healthz_and_stops_on_sigterm(slack: FakeSlack, database_url: str) -> None:
    with FakeSocketMode() as socket_mode:
        slack.socket_mode_url = socket_mode.url
        env = _environment(slack, database_url, SLACK_APP_TOKEN="xapp-test")
        del env["SLACK_SIGNING_SECRET"]  # not needed in Socket Mode
        with serving(env) as process:
            socket_mode.wait_connected()
            assert _healthz("127.0.0.1", env["PORT"]) == 200
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0


def test_an_answer_due_after_the_ack_is_sent_even_while_the_pool_drains(
    database_url: str, clock: Clock, slack: FakeSlack
) -> None:
    """On SIGTERM the listener pool stops taking work; a click answered at that moment
    is sent from the request's own thread instead of being lost."""
    runtime = open_runtime(make_settings(database_url, slack_api_url=slack.api_url), clock)
    try:
        app = bolt_app(runtime, BOT_TOKEN)
        app.listener_runner.listener_executor.shutdown()
        body = block_actions(
            user_id="U0B0B00", action_id="no_such_button", value="1", block_id="b1", message_blocks=[],
            response_url=slack.response_url("drain"),
        )  # fmt: skip
        assert app.dispatch(bolt_request(body)).status == 200
        assert "out of date" in str(slack.wait_for("response/drain")[0].body)
    finally:
        runtime.engine.dispose()


def test_once_stopping_new_requests_get_503_and_nothing_runs(database_url: str, clock: Clock, slack: FakeSlack) -> None:
    """After SIGTERM a keep-alive connection (or Socket Mode) may still bring a request:
    Slack is told to retry it elsewhere rather than have it start work that would be cut."""
    runtime = open_runtime(make_settings(database_url, slack_api_url=slack.api_url), clock)
    try:
        app = bolt_app(runtime, BOT_TOKEN)
        app.stop_taking_requests(time.monotonic() + 5)
        booking = slash_command("/oncall", "away 2027-03-01", user_id="U0B0B00", response_url=slack.response_url())
        assert app.dispatch(bolt_request(booking)).status == 503
        slack.assert_no_call("users.info")
    finally:
        runtime.engine.dispose()
