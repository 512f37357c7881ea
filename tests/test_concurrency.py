"""Writers racing each other for real: several `oncall` processes at once on one SQLite
file or one PostgreSQL schema. Before the writer lock, two bookings at the same time both
succeeded and the stored schedule left each member on call while away.

The subprocesses use the real clock, so the absences are placed relative to today, past
the freeze window."""

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from core.settings import Settings
from storage.db import make_engine
from storage.enums import TimeOffOrigin
from storage.models import Shift, TimeOff
from tests.conftest import time_off_conflicts
from tests.test_catalog import write_variant
from tests.test_cli import ONCALL, clean_env, ok

EXTRA = [("erin", "Europe/Dublin", "IE"), ("frank", "Europe/Paris", "FR"), ("grace", "Asia/Tokyo", "JP")]
EXTRA += [("heidi", "Europe/Berlin", "DE")]
EIGHT = ["alice", "bob", "charlie", "dana", *(member for member, _, _ in EXTRA)]


def _eight_members(team: dict[str, Any]) -> None:
    for index, (member, timezone, country) in enumerate(EXTRA):
        team["members"].append(
            {
                "id": member,
                "name": member.capitalize(),
                "slack_id": f"U0EXTRA{index}",
                "email": f"{member}@example.com",
                "timezone": timezone,
                "country": country,
            }
        )


def _env(workdir: Path, database_url: str) -> dict[str, str]:
    return clean_env(DATABASE_URL=database_url, ONCALL_TEAM_FILE=str(workdir / "team.yaml"))


def _run_at_once(workdir: Path, env: dict[str, str], commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """Start every command before waiting for any, so they overlap."""
    running = [
        subprocess.Popen([str(ONCALL), *args], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in commands
    ]
    done = []
    for process in running:
        out, err = process.communicate(timeout=180)
        done.append((process.returncode, out.decode(), err.decode()))
    return done


def _first_free_monday() -> date:
    """A Monday comfortably past the 14-day freeze window, in team time."""
    today = date.today()
    return today + timedelta(days=35 - today.weekday())


def _engine(database_url: str) -> Any:
    return make_engine(Settings(database_url=database_url).database_url)


def _adhoc(database_url: str) -> list[TimeOff]:
    engine = _engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(TimeOff).where(TimeOff.origin == TimeOffOrigin.ADHOC)))
    finally:
        engine.dispose()


@pytest.fixture
def eight(tmp_path: Path, database_url: str) -> tuple[Path, dict[str, str]]:
    """A scratch directory with an eight-member team file, loaded into the database."""
    workdir = tmp_path / "eight"
    workdir.mkdir()
    write_variant(workdir, _eight_members)
    env = _env(workdir, database_url)
    ok(workdir, "sync", env=env)
    return workdir, env


@pytest.mark.parametrize("count", [2, 4, 8])
def test_concurrent_bookings_for_different_members_are_all_honoured(
    eight: tuple[Path, dict[str, str]], database_url: str, count: int
) -> None:
    workdir, env = eight
    monday = _first_free_monday()
    # Week-long absences, each starting three days after the previous one: neighbours overlap.
    spans = {EIGHT[i]: (monday + timedelta(days=3 * i), monday + timedelta(days=3 * i + 6)) for i in range(count)}
    commands = [["away", member, str(first), str(last)] for member, (first, last) in spans.items()]

    results = _run_at_once(workdir, env, commands)

    assert [code for code, _, _ in results] == [0] * count, results
    booked = {(off.member_id, off.first_day, off.last_day) for off in _adhoc(database_url)}
    assert booked == {(member, first, last) for member, (first, last) in spans.items()}
    engine = _engine(database_url)
    try:
        assert time_off_conflicts(engine) == []
    finally:
        engine.dispose()
    report = json.loads(ok(workdir, "fairness", "--json", env=env))
    conflicts = next(metric for metric in report["metrics"] if metric["metric"] == "conflicts")
    assert conflicts["spread"] == 0
    assert report["at_limit"], report["metrics"]


def test_two_overlapping_bookings_for_one_member_store_exactly_one(
    eight: tuple[Path, dict[str, str]], database_url: str
) -> None:
    workdir, env = eight
    monday = _first_free_monday()
    first = ["away", "bob", str(monday), str(monday + timedelta(days=4))]
    second = ["away", "bob", str(monday + timedelta(days=2)), str(monday + timedelta(days=9))]

    results = _run_at_once(workdir, env, [first, second])

    assert sorted(code for code, _, _ in results) == [0, 1], results
    refused = next(err for code, _, err in results if code == 1)
    assert "Bob is already away" in refused and "Traceback" not in refused
    assert len([off for off in _adhoc(database_url) if off.member_id == "bob"]) == 1


def test_sync_racing_a_booking_leaves_nobody_on_call_while_away(
    eight: tuple[Path, dict[str, str]], database_url: str
) -> None:
    workdir, env = eight
    monday = _first_free_monday()

    def dana_away(team: dict[str, Any]) -> None:
        _eight_members(team)
        dana = next(member for member in team["members"] if member["id"] == "dana")
        dana["time_off"] = [{"first_day": str(monday), "last_day": str(monday + timedelta(days=6))}]

    write_variant(workdir, dana_away)
    commands = [["sync"], ["away", "charlie", str(monday + timedelta(days=2)), str(monday + timedelta(days=8))]]

    results = _run_at_once(workdir, env, commands)

    assert [code for code, _, _ in results] == [0, 0], results
    engine = _engine(database_url)
    try:
        assert time_off_conflicts(engine) == []
        with Session(engine) as session:
            starts = list(session.exec(select(Shift.start).order_by(col(Shift.start))))
        assert len(starts) == len(set(starts))
    finally:
        engine.dispose()
