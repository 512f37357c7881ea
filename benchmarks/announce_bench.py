"""Every handoff of N teams falling due in one minute, through the outbox, against the fake
Slack rate-limited like Slack (`chat.postMessage`: ~1/s per channel, bursts of 3, 429 +
Retry-After beyond); next to the same number of posts through one plain WebClient with no
rate limit (the raw HTTP cost), in the same run.

    python -m benchmarks.announce_bench [--teams 1000] [--repeat 1] [--database-url URL]

SQLite (a temp file, always): one instance. PostgreSQL (TEST_DATABASE_URL or
--database-url postgresql://..., in a schema of its own, dropped at the end): one instance,
then three processes sweeping at once. SQLite gets no multi-instance run: one instance per
SQLite file is the supported setup.

Each instance sweeps the handoff job (`oncall announce handoff`'s kinds), sleeping only
until the earliest retry, its clock advanced by the real time elapsed, so Retry-After waits
are honoured; done when no handoff row is pending or claimed. Prints medians over
--repeat runs of wall time, posts, duplicates and lost keys (both must be 0), 429s.
"""

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from sqlalchemy import create_engine, delete, text
from sqlmodel import Session, col, func, select

from announcements.due import due_between
from announcements.sweep import LOOK_BACK, Announcer, Scope
from bot.announcing import slack_announcer
from cli.announce import KINDS, Job
from core.clock import fixed_clock
from core.settings import Settings
from storage.enums import AnnouncementKind, AnnouncementState
from storage.models import Announcement, AuditEntry, Team
from tests.announcing import MovingClock, key_of
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from usecases.runtime import open_runtime

BOUNDARY = datetime(2026, 12, 7, 10, tzinfo=UTC)  # a Monday, 10:00 UTC: every team's handoff
START = BOUNDARY + timedelta(seconds=5)
MESSAGES = (AnnouncementKind.HANDOFF, AnnouncementKind.HANDOFF_DM)
SCOPE = Scope(kinds=KINDS[Job.HANDOFF])  # the channel post, the DMs, the topic (no oncall_group)
UNFINISHED = (AnnouncementState.PENDING, AnnouncementState.CLAIMED)
INSTANCES = 3


@dataclass(frozen=True)
class Result:
    seconds: float
    posts: int
    duplicates: int
    lost: int
    throttled: int


def team_file(directory: Path, teams: int) -> Path:
    def member(number: int, letter: str) -> dict[str, Any]:
        return {
            "id": f"{letter}{number}", "name": letter.upper(), "slack_id": f"U{number:05d}{letter.upper()}",
            "email": f"{letter}{number}@example.com", "timezone": "UTC", "country": "US",
        }  # fmt: skip

    def team(n: int) -> dict[str, Any]:
        return {
            "id": f"team-{n:04d}", "name": f"Team {n}", "timezone": "UTC", "channel": f"C{n:06d}",
            "rotation": {"start": "2026-12-07", "shift_days": 7, "handoff_weekday": "monday",
                         "handoff_time": "10:00", "major_holidays": []},
            "members": [member(n, "a"), member(n, "b")],
        }  # fmt: skip

    data = {"teams": [team(n) for n in range(teams)]}
    path = directory / "team.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def settings_for(database_url: str, path: Path, api_url: str = "http://127.0.0.1:9/api/") -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        oncall_team_file=path,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api_url,
    )


def prepare(settings: Settings) -> set[str]:
    """Load the team file (schedules extended) on the pinned clock; the keys due at START."""
    runtime = open_runtime(settings, fixed_clock(START))
    try:
        with runtime.session() as session:
            teams = list(session.exec(select(Team)))
            dues = due_between(session, teams, START - LOOK_BACK, START)
    finally:
        runtime.engine.dispose()
    return {due.key for due in dues if due.kind in MESSAGES}


def reset_outbox(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        session.exec(delete(Announcement))
        session.exec(delete(AuditEntry))
        session.commit()
    engine.dispose()


def drain(announcer: Announcer, clock: MovingClock) -> None:
    """Sweep until no handoff row is left to send, sleeping only until the next retry."""
    began = time.monotonic()
    while True:
        announcer.sweep(SCOPE)
        clock.at = START + timedelta(seconds=time.monotonic() - began)
        with announcer.runtime.session() as session:
            unfinished = col(Announcement.state).in_(UNFINISHED) & col(Announcement.kind).in_(SCOPE.kinds)
            if not session.exec(select(func.count()).select_from(Announcement).where(unfinished)).one():
                return
            retry = session.exec(select(func.min(Announcement.next_attempt_at)).where(unfinished)).one()
        if retry is not None and retry.tzinfo is None:
            retry = retry.replace(tzinfo=UTC)  # SQLite hands back naive UTC
        wait = 0.0 if retry is None else (retry - clock.at).total_seconds()
        time.sleep(min(max(wait, 0.01), 1.0))  # a row claimed by another instance: look again soon
        clock.at = START + timedelta(seconds=time.monotonic() - began)


def instance_process(settings: Settings, ready: Event, go: Event, done: "Queue[float]") -> None:
    clock = MovingClock(START)
    runtime = open_runtime(settings, clock)
    announcer = slack_announcer(runtime, BOT_TOKEN)
    announcer.sweep(Scope(team_id="no-such-team"))  # warm up, as the in-process run is by prepare()
    announcer.next_wake()
    ready.set()
    go.wait()
    try:
        drain(announcer, clock)
        done.put(time.monotonic())  # system-wide on Linux: comparable with the parent's
    finally:
        runtime.engine.dispose()


def run_once(settings: Settings, slack: FakeSlack, instances: int) -> float:
    """Wall time for `instances` sweepers (1: in this process; more: processes) to drain it."""
    settings = settings.model_copy(update={"slack_api_url": slack.api_url})
    if instances == 1:
        clock = MovingClock(START)
        runtime = open_runtime(settings, clock)
        try:
            announcer = slack_announcer(runtime, BOT_TOKEN)
            begin = time.perf_counter()
            drain(announcer, clock)
            return time.perf_counter() - begin
        finally:
            runtime.engine.dispose()
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    readies = [context.Event() for _ in range(instances)]
    done: Queue[float] = context.Queue()
    processes = [context.Process(target=instance_process, args=(settings, ready, go, done)) for ready in readies]
    for process in processes:
        process.start()
    for ready in readies:
        if not ready.wait(300):
            raise RuntimeError("an instance did not start")
    begin = time.monotonic()
    go.set()
    for process in processes:
        process.join()
    elapsed = max(done.get(timeout=5) for _ in processes) - begin  # not counting interpreter exits
    if any(process.exitcode for process in processes):
        raise RuntimeError(f"an instance failed: {[process.exitcode for process in processes]}")
    return elapsed


def measure(settings: Settings, expected: set[str], instances: int) -> Result:
    reset_outbox(settings)
    with FakeSlack() as slack:
        slack.first_ts_seconds = int(BOUNDARY.timestamp())
        slack.workspace.rate_limit_posts(per_second=1.0, burst=3)
        seconds = run_once(settings, slack, instances)
        calls = slack.calls_to("chat.postMessage")
        posted = Counter(key_of(call.body) for call in calls if call.status == 200 and call.response.get("ok"))
        stored = {key: len(slack.workspace.messages_with_metadata_key(key)) for key in expected}
    duplicates = sum(count - 1 for count in posted.values() if count > 1)
    duplicates += sum(count - 1 for count in stored.values() if count > 1)
    lost = sum(1 for key in expected if not stored[key] or key not in posted)
    throttled = sum(1 for call in calls if call.status == 429)
    return Result(seconds, sum(posted.values()), duplicates, lost, throttled)


def raw_posts(count: int, channels: list[str]) -> float:
    """`count` posts through one plain WebClient, no rate limit, to a fresh fake."""
    with FakeSlack() as slack:
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        begin = time.perf_counter()
        for number in range(count):
            client.chat_postMessage(channel=channels[number % len(channels)], text=f"post {number}")
        return time.perf_counter() - begin


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A schema of this run's own (as tests/conftest.py's postgres_url), dropped at the end."""
    schema = f"oncall_bench_{os.getpid()}"
    admin = create_engine(Settings(_env_file=None, database_url=url).database_url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def report(label: str, results: list[Result], raw: float) -> None:
    def median(values: list[float] | list[int]) -> float:
        return statistics.median(values)

    seconds = median([r.seconds for r in results])
    print(
        f"{label}: {seconds:.2f} s, {median([r.posts for r in results]):.0f} posts, "
        f"{median([r.duplicates for r in results]):.0f} duplicates, {median([r.lost for r in results]):.0f} lost, "
        f"{median([r.throttled for r in results]):.0f} 429s; raw WebClient {raw:.2f} s; ratio {seconds / raw:.1f}x"
        f"  (median of {len(results)})"
    )


def bench(label: str, database_url: str, path: Path, teams: int, repeat: int, instance_counts: list[int]) -> None:
    settings = settings_for(database_url, path)
    begin = time.perf_counter()
    expected = prepare(settings)
    print(f"{label}: {teams} teams loaded in {time.perf_counter() - begin:.1f} s, {len(expected)} messages due")
    channels = [f"C{n:06d}" for n in range(teams)]
    for instances in instance_counts:
        results, raws = [], []
        for _ in range(repeat):
            results.append(measure(settings, expected, instances))
            raws.append(raw_posts(results[-1].posts or len(expected), channels))
        report(f"  {instances} instance(s)", results, statistics.median(raws))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = team_file(Path(directory), arguments.teams)
        sqlite_url = f"sqlite:///{directory}/oncall.db"
        print("SQLite: one instance only (one instance per SQLite file is the supported setup)")
        bench("SQLite", sqlite_url, path, arguments.teams, arguments.repeat, [1])
        if arguments.database_url and arguments.database_url.startswith("postgres"):
            with postgres_schema(arguments.database_url) as url:
                bench("PostgreSQL", url, path, arguments.teams, arguments.repeat, [1, INSTANCES])


if __name__ == "__main__":
    main()
