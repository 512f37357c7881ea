"""The schema's history: migrations agree with the models, a database made by the release
before migrations upgrades with every row intact, concurrent first starts are safe, and a
failed first run leaves nothing behind."""

import json
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, Table, insert, inspect, select, text
from sqlmodel import SQLModel, col

from core.clock import fixed_clock
from core.settings import Settings
from schedules.queries import on_call_at
from storage import schema
from storage.db import locked_connection, make_engine
from storage.models import Shift, Team
from tests.conftest import NOW, make_settings
from tests.test_catalog import write_variant
from tests.test_cli import ONCALL, clean_env
from usecases.runtime import open_runtime

ROTATION_START = date(2026, 1, 5)


def _engine(database_url: str) -> Engine:
    return make_engine(Settings(database_url=database_url).database_url)


def test_models_and_migrations_agree(database_url: str) -> None:
    """What `alembic check` does: autogenerate against a migrated database finds nothing."""
    engine = _engine(database_url)
    try:
        schema.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def _legacy_database(engine: Engine) -> None:
    """The release before migrations: the baseline tables, no `alembic_version`, and real
    rows (a year of shifts, time off booked ad hoc, applied ownership, a holiday plan)."""
    with locked_connection(engine) as connection:
        from alembic import command

        command.upgrade(schema._config(connection), schema.BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
        tables = MetaData()
        tables.reflect(connection)
        rows = _legacy_rows()
        for name in ("team", "member", "pipeline", "ownership", "shift", "timeoff", "holidayassignment"):
            connection.execute(insert(Table(name, tables)), rows[name])


def _legacy_rows() -> dict[str, list[dict[str, Any]]]:
    members = ["alice", "bob", "charlie", "dana"]
    zones = ["America/New_York", "Europe/London", "America/Los_Angeles", "Europe/Berlin"]
    countries = [("US", "NY"), ("GB", "ENG"), ("US", "CA"), ("DE", "BE")]
    shifts = []
    for week in range(60):
        start = datetime.combine(ROTATION_START + timedelta(weeks=week), time(15, 0), tzinfo=UTC)
        shifts.append(
            {
                "team_id": "data-eng",
                "start": start,
                "end": start + timedelta(weeks=1),
                "primary_id": members[week % 4],
                "secondary_id": members[(week + 1) % 4],
                "origin": "rotation",
                "updated_at": NOW,
            }
        )
    return {
        "team": [
            {
                "id": "data-eng",
                "name": "Data Engineering",
                "timezone": "America/New_York",
                "channel": "C0DATAENG",
                "shift_days": 7,
                "handoff_weekday": 0,
                "handoff_time": time(10, 0),
                "rotation_start": ROTATION_START,
                "freeze_days": 14,
                "major_holidays": ["Christmas Day"],
            }
        ],
        "member": [
            {
                "id": member,
                "team_id": "data-eng",
                "name": member.capitalize(),
                "slack_id": f"U{index}",
                "email": f"{member}@example.com",
                "timezone": zones[index],
                "country": countries[index][0],
                "subdivision": countries[index][1],
                "position": index,
                "active": True,
            }
            for index, member in enumerate(members)
        ],
        "pipeline": [
            {
                "id": "aggregate-growth",
                "team_id": "data-eng",
                "name": "Aggregate Growth for Investors",
                "area": "Growth",
                "audience": "investors",
                "run_schedule": "daily 05:00 UTC",
                "sources": ["app_db.users"],
                "alert_channel": "#alerts-growth",
                "position": 0,
                "active": True,
            }
        ],
        "ownership": [
            {
                "pipeline_id": "aggregate-growth",
                "effective_from": ROTATION_START,
                "primary_id": "charlie",
                "secondary_id": "dana",
                "origin": "catalog",
                "quarter": None,
                "created_at": NOW,
            },
            {
                "pipeline_id": "aggregate-growth",
                "effective_from": date(2026, 10, 1),
                "primary_id": "bob",
                "secondary_id": "alice",
                "origin": "rotation",
                "quarter": "2026Q4",
                "created_at": NOW,
            },
        ],
        "shift": shifts,
        "timeoff": [
            {
                "member_id": "bob",
                "first_day": date(2027, 1, 11),
                "last_day": date(2027, 1, 15),
                "reason": "ski",
                "origin": "adhoc",
                "created_at": NOW,
            }
        ],
        "holidayassignment": [
            {
                "team_id": "data-eng",
                "year": 2026,
                "holiday": "Christmas Day",
                "day": date(2026, 12, 25),
                "member_id": "bob",
            }
        ],
    }


LEGACY_TABLES = ("team", "member", "pipeline", "ownership", "timeoff", "holidayassignment", "shift")


def _rows(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of the legacy tables, in the legacy columns only (shifts: the started ones,
    which nothing may rewrite)."""
    tables = MetaData()
    tables.reflect(engine)
    found = {}
    with engine.connect() as connection:
        for name in LEGACY_TABLES:
            table = tables.tables[name]
            columns = [column for column in table.columns if column.name not in ("cancelled_at", "cancelled_by")]
            rows = [tuple(map(_hashable, row)) for row in connection.execute(select(*columns))]
            if name == "shift":
                start = [column.name for column in columns].index("start")
                rows = [row for row in rows if _utc(row[start]) < NOW]
            found[name] = set(rows)
    return found


def _hashable(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def test_a_database_from_before_migrations_upgrades_with_every_row(database_url: str, tmp_path: Path) -> None:
    engine = _engine(database_url)
    _legacy_database(engine)
    before = _rows(engine)
    with engine.connect() as connection:  # today's models name columns the old schema lacks: plain SQL
        was = connection.execute(
            text("SELECT primary_id, secondary_id FROM shift WHERE start <= :now ORDER BY start DESC LIMIT 1"),
            {"now": NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW},
        ).one()
    engine.dispose()
    assert len(before["shift"]) == 48

    runtime = open_runtime(make_settings(database_url, oncall_team_file=tmp_path / "absent.yaml"), fixed_clock(NOW))
    try:
        after = _rows(runtime.engine)
        for name in LEGACY_TABLES:  # every row intact (more shifts, a new holiday plan; new columns at the end)
            width = len(next(iter(before[name])))
            assert before[name] <= {row[:width] for row in after[name]}, name
        with runtime.engine.connect() as connection:
            assert schema.current(connection) == schema.head()
            assert "auditentry" in inspect(connection).get_table_names()
        with runtime.session() as session:
            team = session.get(Team, "data-eng")
            assert team is not None
            now = on_call_at(session, team, NOW)
            assert now is not None
            assert (now.primary.id, now.secondary.id) == tuple(was)
    finally:
        runtime.engine.dispose()


def test_a_failed_first_run_leaves_no_database(tmp_path: Path) -> None:
    broken = write_variant(tmp_path, lambda team: team["members"][1].update(timezone="Mars/Olympus"))
    database = tmp_path / "fresh.db"
    with pytest.raises(Exception, match="Mars/Olympus"):
        open_runtime(make_settings(f"sqlite:///{database}", oncall_team_file=broken), fixed_clock(NOW))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["team.yaml"]


def test_a_failed_first_run_on_postgresql_creates_no_table(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the SQLite case is the file test above")
    broken = write_variant(tmp_path, lambda team: team["members"][1].update(timezone="Mars/Olympus"))
    with pytest.raises(Exception, match="Mars/Olympus"):
        open_runtime(make_settings(database_url, oncall_team_file=broken), fixed_clock(NOW))
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("count", [3, 8])
def test_concurrent_first_starts_on_a_fresh_database(database_url: str, workdir: Path, count: int) -> None:
    env = clean_env(DATABASE_URL=database_url, ONCALL_TEAM_FILE=str(workdir / "team.yaml"))
    running = [
        subprocess.Popen([str(ONCALL), "now"], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(count)
    ]
    results = [(process.wait(timeout=180), process.stderr.read().decode()) for process in running]  # type: ignore[union-attr]
    assert [code for code, _ in results] == [0] * count, results
    assert all("Traceback" not in err for _, err in results)
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(select(col(Team.id))).scalars().all() == ["data-eng"]
            starts = connection.execute(select(col(Shift.start))).scalars().all()
        assert len(starts) == len(set(starts)) > 50
    finally:
        engine.dispose()


def test_announcement_rows_upgrade_to_outbox_states(database_url: str) -> None:
    """0003 reshapes `announcement`: a sent row stays sent, an unsent one becomes pending at
    its due time, one of a kind nothing can send is skipped; the team gains no user group."""
    engine = _engine(database_url)
    try:
        _legacy_database(engine)
        with locked_connection(engine) as connection:
            from alembic import command

            command.stamp(schema._config(connection), schema.BASELINE)
            command.upgrade(schema._config(connection), "0002")
            tables = MetaData()
            tables.reflect(connection)
            due = datetime(2026, 12, 7, 15, tzinfo=UTC)
            connection.execute(
                insert(Table("announcement", tables)),
                [
                    {
                        "key": "a",
                        "team_id": "data-eng",
                        "kind": "handoff",
                        "due_at": due,
                        "sent_at": due,
                        "channel": "C1",
                        "message_ts": "1.2",
                    },
                    {
                        "key": "b",
                        "team_id": "data-eng",
                        "kind": "reminder",
                        "due_at": due,
                        "sent_at": None,
                        "channel": None,
                        "message_ts": None,
                    },
                    {
                        "key": "c",
                        "team_id": "data-eng",
                        "kind": "weekly-digest",
                        "due_at": due,
                        "sent_at": None,
                        "channel": None,
                        "message_ts": None,
                    },
                ],
            )
        schema.upgrade(engine)
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT key, state, attempts, next_attempt_at IS NOT NULL, message_ts "
                    "FROM announcement ORDER BY key"
                )
            ).all()
            group = connection.execute(text("SELECT oncall_group FROM team")).scalar_one()
        assert [tuple(row) for row in found] == [
            ("a", "sent", 0, False, "1.2"),
            ("b", "pending", 0, True, None),
            ("c", "skipped", 0, False, None),
        ]
        assert group is None
    finally:
        engine.dispose()
