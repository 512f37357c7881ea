"""`/oncall now` through the signed HTTP endpoint on a large database, next to a no-op
Bolt command served the same way, in the same run; plus the RSS of `oncall serve`.

    python -m benchmarks.oncall_now_bench [--teams 500] [--years 10] [--requests 400] [--database-url URL]

Prints median and p99 latency of both and their ratio (target: p99 ratio <= 1.5) and the
resident memory of a real `oncall serve` process after it answered requests (target <= 150 MB).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import insert
from sqlmodel import SQLModel
from waitress.server import TcpWSGIServer, create_server

from bot.edge import SlackEdge, health_app
from bot.server import http_app
from core.clock import fixed_clock
from core.settings import Settings
from schedules.calendar import Rotation
from storage import schema
from storage.db import make_engine
from storage.models import Member, Shift, Team
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack, post, slash_command
from usecases.runtime import open_runtime

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MEMBERS_PER_TEAM = 4


def populate(database_url: str, teams: int, years: int) -> None:
    """`teams` teams of four, each with `years` of weekly shifts centred on NOW."""
    engine = make_engine(database_url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    schema.upgrade(engine)
    start = date(NOW.year - years // 2, 1, 4)
    start -= timedelta(days=start.weekday())
    rotation = Rotation(start, 7, clock_time(10), "America/New_York")
    weeks = years * 52
    with engine.begin() as connection:
        for number in range(teams):
            team_id = f"team-{number:03d}"
            connection.execute(insert(Team), [_team(team_id, start)])
            members = [f"{team_id}-m{index}" for index in range(MEMBERS_PER_TEAM)]
            connection.execute(insert(Member), [_member(team_id, member, i) for i, member in enumerate(members)])
            connection.execute(insert(Shift), [_shift(team_id, members, rotation, week) for week in range(weeks)])
    engine.dispose()


def _team(team_id: str, start: date) -> dict[str, Any]:
    return {
        "id": team_id, "name": team_id, "timezone": "America/New_York", "channel": "C0TEAM",
        "shift_days": 7, "handoff_weekday": 0, "handoff_time": clock_time(10), "rotation_start": start,
        "freeze_days": 14, "major_holidays": [],
    }  # fmt: skip


def _member(team_id: str, member_id: str, position: int) -> dict[str, Any]:
    return {
        "id": member_id, "team_id": team_id, "name": member_id, "slack_id": slack_id(member_id),
        "email": f"{member_id}@example.com", "timezone": "America/New_York", "country": "US",
        "subdivision": None, "position": position, "active": True,
    }  # fmt: skip


def _shift(team_id: str, members: list[str], rotation: Rotation, week: int) -> dict[str, Any]:
    start, end = rotation.window(week)
    return {
        "team_id": team_id, "start": start, "end": end, "primary_id": members[week % 4],
        "secondary_id": members[(week + 1) % 4], "origin": "rotation", "updated_at": NOW,
    }  # fmt: skip


def slack_id(member_id: str) -> str:
    return "U" + member_id.upper().replace("-", "")


@contextmanager
def served(app: Any) -> Iterator[str]:
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    assert isinstance(server, TcpWSGIServer) and server.socket is not None
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}/slack/events"
    finally:
        server.task_dispatcher.shutdown(timeout=5)
        server.close()


def noop_app(slack: FakeSlack) -> SlackEdge:
    """Behind the same edge as the bot (which verifies signatures in Bolt's stead), and
    like the bot answering before the response (`process_before_response`), so the two
    differ only in what the listener does."""
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=slack.api_url),
        request_verification_enabled=False,
        process_before_response=True,
    )

    def noop(ack: Ack) -> None:
        ack("ok")

    app.command("/noop")(noop)
    return SlackEdge(app, SIGNING_SECRET, health_app(lambda: True))


def measure(send: Callable[[], None], count: int) -> list[float]:
    timings = []
    for _ in range(count):
        begin = time.perf_counter()
        send()
        timings.append((time.perf_counter() - begin) * 1000)
    return timings


def sender(url: str, command: str, text: str, user: str, slack: FakeSlack) -> Callable[[], None]:
    def send() -> None:
        status, _, answer = post(url, slash_command(command, text, user_id=user, response_url=slack.response_url()))
        assert status == 200, answer

    return send


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def rss_of_serve(database_url: str, slack: FakeSlack, user: str, requests: int) -> float:
    """Start a real `oncall serve`, answer `requests` commands, read its VmRSS in MB."""
    port = 38000 + os.getpid() % 1000
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url}  # fmt: skip
    env.pop("SLACK_APP_TOKEN", None)
    script = Path(sys.executable).parent / "oncall"
    process = subprocess.Popen([str(script), "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz")
        measure(sender(f"http://127.0.0.1:{port}/slack/events", "/oncall", "now", user, slack), requests)
        status = Path(f"/proc/{process.pid}/status").read_text()
        kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return kilobytes / 1024
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_healthy(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never became healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, FakeSlack() as slack:
        database_url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        begin = time.perf_counter()
        populate(database_url, args.teams, args.years)
        shifts = args.teams * args.years * 52
        print(f"database: {args.teams} teams x {args.years} years = {shifts} shifts "
              f"({time.perf_counter() - begin:.1f} s to build)")  # fmt: skip
        user = slack_id(f"team-{args.teams // 2:03d}-m1")
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            oncall_team_file=Path(scratch) / "none.yaml",
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url,
        )
        runtime = open_runtime(settings, fixed_clock(NOW))
        with served(http_app(runtime)) as oncall_url, served(noop_app(slack)) as noop_url:
            ours = sender(oncall_url, "/oncall", "now", user, slack)
            baseline = sender(noop_url, "/noop", "", user, slack)
            measure(ours, 20), measure(baseline, 20)  # warm up caches and connections
            oncall_ms, noop_ms = [], []
            for _ in range(args.requests // 20):  # interleave so machine noise hits both alike
                oncall_ms += measure(ours, 20)
                noop_ms += measure(baseline, 20)
        report(oncall_ms, noop_ms)
        rss = rss_of_serve(database_url, slack, user, 100)
        print(f"RSS of `oncall serve` after 100 requests: {rss:.0f} MB (target <= 150 MB)")


def report(oncall_ms: list[float], noop_ms: list[float]) -> None:
    rows = [("/oncall now", oncall_ms), ("no-op command", noop_ms)]
    print(f"{'handler':<16}{'requests':>9}{'median ms':>11}{'p99 ms':>9}")
    for name, values in rows:
        print(f"{name:<16}{len(values):>9}{statistics.median(values):>11.2f}{p99(values):>9.2f}")
    print(f"ratio (ours / no-op): median {statistics.median(oncall_ms) / statistics.median(noop_ms):.2f}, "
          f"p99 {p99(oncall_ms) / p99(noop_ms):.2f} (target p99 ratio <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
