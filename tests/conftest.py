"""Shared fixtures: a database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), a pinned clock, the fake Slack Web API, and the real bot served over HTTP."""

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text
from sqlmodel import Session, col, create_engine, select
from waitress.server import TcpWSGIServer, create_server

from bot.server import http_app
from core.clock import Clock, fixed_clock
from core.settings import Settings
from schedules.generate import rotation_of
from storage.models import Shift, Team, TimeOff
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from usecases.runtime import Runtime, open_runtime

REPO = Path(__file__).resolve().parent.parent
TEAM_FILE = REPO / "team.yaml"
# Tuesday 1 December 2026, 12:00 UTC: Dana (primary) and Alice (secondary) are on call.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

# CI runs the same examples every time, so a red run is reproducible and a green one means
# the same as the last; locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's environment or .env."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "ONCALL_")) or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _database_params() -> list[str]:
    return ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A schema of this test run's own, so concurrent runs on one server never collide."""
    assert POSTGRES_URL is not None
    schema = f"oncall_test_{os.getpid()}"
    admin = create_engine(Settings(database_url=POSTGRES_URL).database_url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each configured kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'oncall.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(Settings(database_url=url).database_url)
    with engine.begin() as connection:  # the run's own schema, emptied: tables and alembic_version
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return url


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh directory holding only a copy of the example team file."""
    directory = tmp_path / "work"
    directory.mkdir()
    shutil.copy(TEAM_FILE, directory / "team.yaml")
    return directory


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


def time_off_conflicts(engine: Engine, since: datetime | None = None) -> list[tuple[datetime, str]]:
    """(shift start, member) for every stored shift (from `since`) overlapping the member's
    time off: what the planner must never write outside frozen shifts."""
    with Session(engine) as session:
        team = session.exec(select(Team)).one()
        rotation = rotation_of(team)
        away = session.exec(select(TimeOff).where(col(TimeOff.cancelled_at).is_(None))).all()
        query = select(Shift) if since is None else select(Shift).where(col(Shift.start) >= since)
        found = []
        for shift in session.exec(query):
            days = rotation.touched_days(rotation.index_at(shift.start))
            for off in away:
                on_call = off.member_id in (shift.primary_id, shift.secondary_id)
                if on_call and any(off.first_day <= day <= off.last_day for day in days):
                    found.append((shift.start, off.member_id))
        return found


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "oncall_team_file": TEAM_FILE,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def runtime(database_url: str, clock: Clock) -> Iterator[Runtime]:
    """The example team loaded, its schedule generated, time pinned at NOW."""
    opened = open_runtime(make_settings(database_url), clock)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.user_timezones.update({"U0A11CE": "America/New_York", "U0B0B00": "Europe/London"})
        yield fake


@pytest.fixture
def bot_url(database_url: str, clock: Clock, slack: FakeSlack) -> Iterator[str]:
    """The bot's HTTP endpoint, served by waitress exactly as `oncall serve` does."""
    settings = make_settings(database_url, slack_api_url=slack.api_url)
    runtime = open_runtime(settings, clock)
    server = create_server(http_app(runtime), host="127.0.0.1", port=0, threads=4)
    assert isinstance(server, TcpWSGIServer)  # one socket, so one effective port
    assert server.socket is not None
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # its select() loses the socket when we close it; only then is it fine
            if not stopping.is_set():
                raise

    threading.Thread(target=run, daemon=True).start()
    yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    stopping.set()
    server.task_dispatcher.shutdown(timeout=5)  # let in-flight requests finish first
    server.close()  # the loop notices within its 1 s poll; no need to wait for it
    runtime.engine.dispose()
