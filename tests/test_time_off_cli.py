"""Time off from the terminal, as a user types it: book one day or a range, list, cancel,
and every change in `oncall audit`. Real subprocesses on the real clock, so days are
placed relative to today."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from core.settings import Settings
from storage.db import make_engine
from storage.models import TimeOff
from tests.conftest import time_off_conflicts
from tests.test_cli import clean_env, ok, oncall


@pytest.fixture
def env(workdir: Path, database_url: str) -> dict[str, str]:
    values = clean_env(DATABASE_URL=database_url, ONCALL_TEAM_FILE=str(workdir / "team.yaml"))
    ok(workdir, "sync", env=values)
    return values


def _monday_ahead(weeks: int = 6) -> date:
    today = date.today()
    return today + timedelta(days=7 * weeks - today.weekday())


def _bookings(database_url: str) -> int:
    engine = make_engine(Settings(database_url=database_url).database_url)
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(TimeOff)).one()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("2027-13-01", "2027-13-01 is not a date: there is no month 13"),
        ("2027-02-29", "2027-02-29 is not a date in 2027: February has 28 days"),
        ("9999-12-31", "9999-12-31 is out of range"),
        ("tomorrow", "tomorrow is not a date"),
    ],
)
def test_a_mistyped_day_is_refused_and_books_nothing(
    workdir: Path, env: dict[str, str], database_url: str, typed: str, says: str
) -> None:
    before = _bookings(database_url)
    for args in (("away", "bob", typed), ("away", "bob", str(_monday_ahead()), typed)):
        done = oncall(workdir, *args, env=env)
        assert done.returncode == 1, done
        assert says in done.stderr and "Traceback" not in done.stderr
    assert _bookings(database_url) == before


def _a_day_bob_is_on_call(workdir: Path, env: dict[str, str]) -> date:
    """The Wednesday of Bob's first shift past the freeze window: booking it must move him."""
    shifts = json.loads(ok(workdir, "schedule", "--from", str(_monday_ahead()), "--weeks", "8", "--json", env=env))
    shift = next(s for s in shifts["shifts"] if "bob" in (s["primary"]["id"], s["secondary"]["id"]))
    return date.fromisoformat(shift["start"][:10]) + timedelta(days=2)


def test_book_one_day_list_cancel_and_audit(workdir: Path, env: dict[str, str], database_url: str) -> None:
    day = _a_day_bob_is_on_call(workdir, env)
    booked = ok(workdir, "away", "bob", str(day), "--reason", "dentist", env=env)
    assert f"bob away {day} to {day}" in booked
    booking = int(booked.split("#", 1)[1].split(":", 1)[0])

    listed = ok(workdir, "away", "--list", "bob", env=env)
    assert f"#{booking}" in listed and "dentist" in listed

    cancelled = ok(workdir, "away", "--cancel", str(booking), env=env)
    assert f"Cancelled #{booking}: bob away {day} to {day}" in cancelled
    assert f"#{booking}" not in ok(workdir, "away", "--list", "bob", env=env)
    again = oncall(workdir, "away", "--cancel", str(booking), env=env)
    assert again.returncode == 1 and f"time off #{booking} was already cancelled" in again.stderr
    missing = oncall(workdir, "away", "--cancel", "999999", env=env)
    assert missing.returncode == 1 and "there is no time off #999999" in missing.stderr

    engine = make_engine(Settings(database_url=database_url).database_url)
    try:
        assert time_off_conflicts(engine) == []
    finally:
        engine.dispose()

    trail = json.loads(ok(workdir, "audit", "--member", "bob", "--json", env=env))["entries"]
    actions = [entry["action"] for entry in trail if entry["cause"] is None]
    assert actions[-2:] == ["time off booked", "time off cancelled"]
    booked_entry = next(entry for entry in trail if entry["action"] == "time off booked")
    assert booked_entry["front_end"] == "terminal" and booked_entry["member"] == "bob"
    assert booked_entry["details"]["booking"] == booking
    moved = [entry for entry in trail if entry["cause"] == booked_entry["id"]]
    assert moved and all(entry["action"] == "shift changed" for entry in moved)
    assert len(moved) == booked_entry["details"]["shifts_changed"]
    yesterday = date.today() - timedelta(days=1)  # --since is a day in team time, which may still be yesterday
    text = ok(workdir, "audit", "--since", str(yesterday), env=env)
    assert "time off booked" not in text  # summaries are shown, not action names
    assert f"bob away {day} to {day} (dentist)" in text and "cancelled" in text


def test_time_off_from_the_team_file_is_cancelled_there(workdir: Path, env: dict[str, str]) -> None:
    listed = ok(workdir, "away", "--list", "alice", env=env)
    booking = next(line.split()[0] for line in listed.splitlines() if "Summer holiday" in line)
    done = oncall(workdir, "away", "--cancel", booking.lstrip("#"), env=env)
    assert done.returncode == 1 and "comes from the team file" in done.stderr


def test_away_without_days_explains_its_usage(workdir: Path, env: dict[str, str]) -> None:
    done = oncall(workdir, "away", "bob", env=env)
    assert done.returncode == 1 and "give MEMBER FIRST [LAST]" in done.stderr


def test_db_commands_report_the_revision(workdir: Path, env: dict[str, str]) -> None:
    assert ok(workdir, "db", "upgrade", env=env).startswith("Already at ")
    current = ok(workdir, "db", "current", env=env)
    revision = current.split("database: ", 1)[1].split(";", 1)[0]
    assert f"this release: {revision}" in current
