"""Real processes racing for the same messages, and one killed mid-send: `oncall announce`
and `oncall serve` instances on one SQLite file or one PostgreSQL schema post each key
once; a `kill -9` between Slack's answer and our record does not post twice."""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cli.main  # noqa: F401  (registers every command on `app`)
from cli.common import Injected, app
from core.clock import fixed_clock
from storage.enums import AnnouncementState
from tests.announcing import HANDOFF_7_DEC, TEAM_CHANNEL, key_of, posts, rows
from tests.slack_fake import BOT_TOKEN, FakeSlack, RecordedCall
from tests.test_catalog import write_variant
from tests.test_cli import ONCALL, clean_env
from tests.test_serve import _free_port, serving

HANDOFF_KEY = "data-eng:handoff:2026-12-07T15:00Z"


def _env(workdir: Path, database_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=database_url,
        ONCALL_TEAM_FILE=str(workdir / "team.yaml"),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack.api_url,
        **extra,
    )


def _announce_at_once(workdir: Path, env: dict[str, str], count: int, at: str) -> list[tuple[int, str]]:
    running = [
        subprocess.Popen(
            [str(ONCALL), "announce", "handoff", "--at", at],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    results = []
    for process in running:
        out, err = process.communicate(timeout=180)
        results.append((process.returncode, out.decode() + err.decode()))
    return results


def _once_each(slack: FakeSlack) -> Counter[str]:
    keys = Counter(key_of(post) for post in posts(slack))
    assert keys and set(keys.values()) == {1}, keys
    return keys


@pytest.mark.parametrize("count", [3])
def test_concurrent_announce_processes_post_each_message_once(
    database_url: str, workdir: Path, slack: FakeSlack, count: int
) -> None:
    env = _env(workdir, database_url, slack)
    results = _announce_at_once(workdir, env, count, "2026-12-07T15:00:05Z")
    assert all(code == 0 for code, _ in results), results
    keys = _once_each(slack)
    assert HANDOFF_KEY in keys and len(posts(slack, TEAM_CHANNEL)) == 1
    assert len([key for key in keys if ":handoff-dm:" in key]) == 2
    again = _announce_at_once(workdir, env, 1, "2026-12-07T15:30:00Z")
    assert again[0][0] == 0 and "nothing due" in again[0][1]
    _once_each(slack)
    assert len(slack.calls_to("conversations.setTopic")) == 1


def test_a_kill_between_post_and_mark_does_not_post_twice(database_url: str, workdir: Path, slack: FakeSlack) -> None:
    """Slack has the message, the process dies before recording it: the next run (after the
    claim timeout) finds it in the channel's history by its metadata key and posts nothing."""
    accepted, release = threading.Event(), threading.Event()

    def accept_then_hang(call: RecordedCall) -> dict[str, Any]:
        answer = slack.workspace.answer("chat.postMessage", call.body)
        if call.body.get("channel") == TEAM_CHANNEL:
            accepted.set()
            release.wait(60)  # Slack took it; its answer never reaches the dying process
        return answer

    slack.first_ts_seconds = int(HANDOFF_7_DEC.timestamp())
    slack.set_response("chat.postMessage", accept_then_hang)
    env = _env(workdir, database_url, slack)
    process = subprocess.Popen(
        [str(ONCALL), "announce", "handoff", "--at", "2026-12-07T15:00:05Z"], cwd=workdir, env=env
    )
    try:
        assert accepted.wait(120), "the handoff was never posted"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        release.set()
    slack.set_response("chat.postMessage", None)
    assert rows(database_url)[HANDOFF_KEY].state == AnnouncementState.CLAIMED  # mid-send, as the crash left it

    early = _announce_at_once(workdir, env, 1, "2026-12-07T15:01:00Z")  # the claim is still fresh: left alone
    assert early[0][0] == 0
    late = _announce_at_once(workdir, env, 2, "2026-12-07T15:10:00Z")  # taken over, by one of two
    assert all(code == 0 for code, _ in late), late
    assert len(slack.workspace.messages_with_metadata_key(HANDOFF_KEY)) == 1
    assert len(posts(slack, TEAM_CHANNEL)) == 1  # only the call the killed process made
    row = rows(database_url)[HANDOFF_KEY]
    assert row.state == AnnouncementState.SENT and row.message_ts == slack.workspace.messages(TEAM_CHANNEL)[0]["ts"]
    assert slack.calls_to("conversations.history")  # it looked before deciding


def _due_minutes_ago(directory: Path, minutes: int) -> datetime:
    """A team whose handoff (UTC) was `minutes` ago today, so a starting instance catches up on it."""
    due = (datetime.now(UTC) - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    weekday = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[due.weekday()]

    def edit(team: dict[str, Any]) -> None:
        team["timezone"] = "UTC"
        rotation = team["rotation"]
        rotation.update(start=(due.date() - timedelta(weeks=4)).isoformat(), handoff_weekday=weekday)
        rotation["handoff_time"] = due.strftime("%H:%M")
        for member in team["members"]:
            member.pop("time_off", None)

    write_variant(directory, edit)
    return due


def _last_sweep(port: str) -> str | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        last: str | None = json.loads(response.read())["scheduler"]["last_sweep"]
        return last


def test_three_serve_instances_post_a_missed_handoff_once(database_url: str, workdir: Path, slack: FakeSlack) -> None:
    """Three instances start after a handoff they missed by 20 minutes: each catches up at
    start, exactly one posts it (late, saying so)."""
    due = _due_minutes_ago(workdir, 20)
    slack.first_ts_seconds = int(time.time())
    base = _env(workdir, database_url, slack, SLACK_SIGNING_SECRET="secret", ONCALL_ANNOUNCEMENTS="true")
    envs = [base | {"PORT": str(_free_port())} for _ in range(3)]
    with serving(envs[0]), serving(envs[1]), serving(envs[2]):
        deadline = time.monotonic() + 60
        while not all(_last_sweep(env["PORT"]) for env in envs):
            assert time.monotonic() < deadline, "an instance never finished a sweep"
            time.sleep(0.1)
    keys = _once_each(slack)
    handoff = f"data-eng:handoff:{due:%Y-%m-%dT%H:%MZ}"
    assert keys[handoff] == 1
    [post] = [post for post in posts(slack, TEAM_CHANNEL) if key_of(post) == handoff]
    assert "Posted late" in str(post["blocks"])
    assert rows(database_url)[handoff].state == AnnouncementState.LATE


def test_announce_refuses_a_typo_d_instant(workdir: Path, slack: FakeSlack, database_url: str) -> None:
    done = subprocess.run(
        [str(ONCALL), "announce", "handoff", "--at", "2026-12-35T10:00Z"],
        cwd=workdir,
        env=_env(workdir, database_url, slack),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "is not an ISO-8601 instant" in done.stderr
    assert not slack.calls_to("chat.postMessage")


def test_announcements_lists_sent_and_upcoming(
    workdir: Path, slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(workdir, database_url, slack)
    assert _announce_at_once(workdir, env, 1, HANDOFF_7_DEC.isoformat())[0][0] == 0
    for name in ("DATABASE_URL", "ONCALL_TEAM_FILE"):
        monkeypatch.setenv(name, env[name])
    result = CliRunner().invoke(
        app, ["announcements", "--json"], obj=Injected(fixed_clock(HANDOFF_7_DEC + timedelta(hours=1)))
    )
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)["announcements"]
    sent = {"due_at": HANDOFF_7_DEC.isoformat(), "kind": "handoff", "recipient": None, "state": "sent", "attempts": 1}
    assert sent | {"last_error": None} in entries
    upcoming = {(entry["due_at"], entry["kind"]) for entry in entries if entry["state"] == "upcoming"}
    assert ("2026-12-14T15:00:00+00:00", "handoff") in upcoming


def test_the_worker_alone_posts_what_is_due_and_stops_on_sigterm(
    database_url: str, workdir: Path, slack: FakeSlack
) -> None:
    """`oncall worker` (the Procfile's `worker:`): the scheduler without HTTP catches up on
    a handoff missed by 20 minutes, once, and exits 0 on SIGTERM."""
    due = _due_minutes_ago(workdir, 20)
    slack.first_ts_seconds = int(time.time())
    env = _env(workdir, database_url, slack)
    worker = subprocess.Popen([str(ONCALL), "worker"], cwd=workdir, env=env, stderr=subprocess.PIPE, text=True)
    try:
        handoff = f"data-eng:handoff:{due:%Y-%m-%dT%H:%MZ}"
        slack.wait_for("chat.postMessage", timeout=120, where=lambda call: handoff in json.dumps(call.body))
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert _once_each(slack)[handoff] == 1
    assert rows(database_url)[handoff].state == AnnouncementState.LATE
