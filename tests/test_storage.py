"""Storage and time: instants survive both databases, "who is on call" is an index lookup,
and shift boundaries stay at the local handoff time across DST and year ends."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from catalog.queries import resolve_team
from schedules.calendar import Rotation
from schedules.queries import next_on_call, on_call_at, shifts_between
from storage.db import session_scope
from storage.enums import AnnouncementKind
from storage.models import Announcement, Member, Shift, Team
from tests.conftest import NOW
from usecases.runtime import Runtime

NEW_YORK = ZoneInfo("America/New_York")
EXAMPLE = Rotation(start=date(2026, 1, 5), shift_days=7, handoff_time=time(10, 0), timezone="America/New_York")


# --- UTCDateTime --------------------------------------------------------------------------

AWARE_INSTANTS = {
    "new york, just after spring forward": datetime(2027, 3, 14, 3, 30, tzinfo=NEW_YORK),
    "new york, second 01:30 of fall back": datetime(2027, 11, 7, 1, 30, fold=1, tzinfo=NEW_YORK),
    "kolkata half hour, microseconds": datetime(2026, 12, 1, 17, 29, 59, 123456, tzinfo=ZoneInfo("Asia/Kolkata")),
    "kiritimati, a day ahead of UTC": datetime(2027, 1, 1, 2, 0, tzinfo=ZoneInfo("Pacific/Kiritimati")),
    "fixed negative offset": datetime(2026, 12, 31, 22, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
}


def _announce(session: Session, key: str, due_at: datetime) -> None:
    session.add(Announcement(key=key, team_id="data-eng", kind=AnnouncementKind.HANDOFF, due_at=due_at))


@pytest.mark.parametrize("name", list(AWARE_INSTANTS))
def test_aware_datetime_round_trips_as_the_same_instant_in_utc(name: str, runtime: Runtime) -> None:
    original = AWARE_INSTANTS[name]
    assert original.utcoffset() != timedelta(0)
    with session_scope(runtime.engine) as session:
        _announce(session, "round-trip", original)

    with Session(runtime.engine) as session:  # a fresh session: the value comes from the database
        stored = session.exec(select(Announcement).where(Announcement.key == "round-trip")).one()
        # a filter with the same instant written in another zone finds the row
        same_instant = original.astimezone(ZoneInfo("Australia/Lord_Howe"))
        found = session.exec(select(Announcement).where(Announcement.due_at == same_instant)).all()

    # compared as UTC: Python never calls an ambiguous (fold) local time equal across zones
    assert stored.due_at == original.astimezone(UTC)
    assert stored.due_at.timestamp() == original.timestamp()
    assert stored.due_at.tzinfo is UTC
    assert stored.due_at.microsecond == original.microsecond
    assert [row.key for row in found] == ["round-trip"]


def test_instants_sort_by_utc_not_by_local_wall_clock(runtime: Runtime) -> None:
    # 08:00 in Tokyo is 23:00 UTC the day before; 20:00 in New York is 01:00 UTC the next day
    tokyo = datetime(2026, 12, 2, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    new_york = datetime(2026, 12, 1, 20, 0, tzinfo=NEW_YORK)
    kolkata = datetime(2026, 12, 2, 5, 0, tzinfo=ZoneInfo("Asia/Kolkata"))  # 23:30 UTC on the 1st
    with session_scope(runtime.engine) as session:
        _announce(session, "new-york", new_york)
        _announce(session, "tokyo", tokyo)
        _announce(session, "kolkata", kolkata)
    with Session(runtime.engine) as session:
        ordered = session.exec(select(Announcement.key).order_by(col(Announcement.due_at))).all()
        before_midnight = session.exec(
            select(Announcement.key).where(Announcement.due_at < datetime(2026, 12, 2, tzinfo=UTC))
        ).all()
    assert list(ordered) == ["tokyo", "kolkata", "new-york"]
    assert sorted(before_midnight) == ["kolkata", "tokyo"]


def test_naive_datetime_is_refused(runtime: Runtime) -> None:
    naive = datetime(2026, 12, 1, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"), session_scope(runtime.engine) as session:
        _announce(session, "naive", naive)
        session.flush()
    with Session(runtime.engine) as session:
        assert session.exec(select(Announcement)).all() == []
        with pytest.raises(StatementError, match="naive datetime"):
            session.exec(select(Announcement).where(Announcement.due_at < naive)).all()


# --- on call at T is an index lookup ------------------------------------------------------


@contextmanager
def captured_shift_queries(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with parameters) that read the shift table while the block runs."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM shift" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan_of_on_call_at(runtime: Runtime, explain: str) -> str:
    with runtime.session() as session:
        team = resolve_team(session, "data-eng")
        with captured_shift_queries(runtime.engine) as seen:
            assert on_call_at(session, team, NOW) is not None
    assert len(seen) == 1, seen
    statement, parameters = seen[0]
    with runtime.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"{explain} {statement}", parameters).all()
    return "\n".join(" ".join(str(cell) for cell in row) for row in rows)


def test_on_call_at_searches_the_team_start_index_on_sqlite(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("SQLite query plan")
    with runtime.engine.connect() as connection:
        table_sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'shift'").scalar_one()
        indexes = connection.exec_driver_sql("PRAGMA index_list(shift)").all()
        columns = {
            row[1]: [info[2] for info in connection.exec_driver_sql(f"PRAGMA index_info('{row[1]}')")]
            for row in indexes
        }
    assert "CONSTRAINT uq_shift_team_start UNIQUE (team_id, start)" in table_sql
    (team_start_index,) = [name for name, cols in columns.items() if cols == ["team_id", "start"]]

    plan = _plan_of_on_call_at(runtime, "EXPLAIN QUERY PLAN")

    assert f"SEARCH shift USING INDEX {team_start_index} (team_id=? AND start<?)" in plan, plan
    assert "SCAN shift" not in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # the index also gives the order: no sort


def _add_many_teams(engine: Engine, teams: int, shifts_each: int) -> None:
    rotation = Rotation(date(2020, 1, 6), 7, time(10, 0), "Europe/Paris")
    with session_scope(engine) as session:
        for number in range(teams):
            team_id = f"team-{number}"
            session.add(
                Team(id=team_id, name=team_id, timezone="Europe/Paris", channel="C0X", rotation_start=date(2020, 1, 6))
            )
            session.flush()  # no relationships: the unit of work does not order the inserts by foreign key
            for who in ("a", "b"):
                session.add(
                    Member(
                        id=f"{team_id}-{who}",
                        team_id=team_id,
                        name=who,
                        slack_id=f"U{number}{who.upper()}",
                        email=f"{who}@example.com",
                        timezone="Europe/Paris",
                        country="FR",
                    )
                )
        session.flush()
        rows = []
        for number in range(teams):
            for index in range(shifts_each):
                start, end = rotation.window(index)
                rows.append(
                    {
                        "team_id": f"team-{number}",
                        "start": start,
                        "end": end,
                        "primary_id": f"team-{number}-a",
                        "secondary_id": f"team-{number}-b",
                        "origin": "rotation",
                        "updated_at": NOW,
                    }
                )
        session.execute(insert(Shift), rows)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE shift"))
        connection.commit()


def test_on_call_at_uses_an_index_scan_on_postgresql(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL query plan")
    _add_many_teams(runtime.engine, teams=40, shifts_each=500)

    plan = _plan_of_on_call_at(runtime, "EXPLAIN")

    assert "Index Scan" in plan, plan
    assert "uq_shift_team_start" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan
    with runtime.session() as session:  # the extra teams do not disturb the answer
        current = on_call_at(session, resolve_team(session, "data-eng"), NOW)
    assert current is not None and current.primary.id == "dana"


# --- shift boundaries ---------------------------------------------------------------------


def _local(instant: datetime) -> datetime:
    return instant.astimezone(NEW_YORK)


def test_handoff_stays_at_ten_new_york_across_spring_forward() -> None:
    index = EXAMPLE.index_at(datetime(2027, 3, 10, tzinfo=UTC))
    start, end = EXAMPLE.window(index)
    assert start == datetime(2027, 3, 8, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert end == datetime(2027, 3, 15, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert end - start == timedelta(hours=167)
    assert (_local(start).time(), _local(end).time()) == (time(10), time(10))
    assert (_local(start).tzname(), _local(end).tzname()) == ("EST", "EDT")


def test_handoff_stays_at_ten_new_york_across_fall_back() -> None:
    index = EXAMPLE.index_at(datetime(2027, 11, 5, tzinfo=UTC))
    start, end = EXAMPLE.window(index)
    assert start == datetime(2027, 11, 1, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert end == datetime(2027, 11, 8, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert end - start == timedelta(hours=169)
    assert (_local(start).time(), _local(end).time()) == (time(10), time(10))


def test_every_2027_handoff_is_monday_ten_local() -> None:
    first = EXAMPLE.index_at(datetime(2027, 1, 1, tzinfo=UTC))
    lengths = set()
    for index in range(first, first + 53):
        start, end = EXAMPLE.window(index)
        assert _local(start).weekday() == 0 and _local(start).time() == time(10), index
        assert EXAMPLE.window(index + 1)[0] == end
        lengths.add(end - start)
    assert lengths == {timedelta(hours=167), timedelta(hours=168), timedelta(hours=169)}


def test_shift_spanning_the_year_boundary() -> None:
    new_year = datetime(2027, 1, 1, 0, 0, tzinfo=NEW_YORK)
    index = EXAMPLE.index_at(new_year)
    start, end = EXAMPLE.window(index)
    assert start == datetime(2026, 12, 28, 15, 0, tzinfo=UTC)
    assert end == datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
    assert EXAMPLE.days(index) == tuple(date(2026, 12, 28) + timedelta(days=n) for n in range(7))
    assert EXAMPLE.index_at(datetime(2026, 12, 31, 23, 59, 59, tzinfo=NEW_YORK)) == index
    assert EXAMPLE.index_at(datetime(2027, 1, 1, 0, 0, tzinfo=UTC)) == index  # still 2026 in New York


def test_index_at_a_handoff_instant_belongs_to_the_new_shift() -> None:
    handoff = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    new = EXAMPLE.index_at(handoff)
    old = EXAMPLE.index_at(handoff - timedelta(microseconds=1))
    assert new == old + 1
    assert EXAMPLE.window(new)[0] == handoff
    assert EXAMPLE.window(old)[1] == handoff
    # the same instant in other zones, and the index of the first shift
    assert EXAMPLE.index_at(handoff.astimezone(ZoneInfo("Asia/Tokyo"))) == new
    assert EXAMPLE.index_at(datetime(2026, 1, 5, 15, 0, tzinfo=UTC)) == 0
    assert EXAMPLE.index_at(datetime(2026, 1, 5, 14, 59, 59, 999999, tzinfo=UTC)) == -1


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2035, 12, 31, 23, 59, 59, 999999), timezones=st.just(UTC)
)


@given(instant=instants)
def test_window_of_index_at_contains_the_instant(instant: datetime) -> None:
    start, end = EXAMPLE.window(EXAMPLE.index_at(instant))
    assert start <= instant < end


ZONES = sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))


@settings(max_examples=300)
@given(
    instant=instants,
    zone=st.sampled_from(ZONES),
    shift_days=st.integers(1, 28),
    handoff=st.times(),
    start=st.dates(date(2025, 1, 1), date(2026, 1, 1)),
)
def test_any_rotation_window_contains_its_instant(
    instant: datetime, zone: str, shift_days: int, handoff: time, start: date
) -> None:
    rotation = Rotation(start, shift_days, handoff, zone)
    index = rotation.index_at(instant)
    begin, end = rotation.window(index)
    assert begin <= instant < end
    assert begin < end


# --- who is on call, on the example team --------------------------------------------------


def stored_pair(session: Session, start: datetime) -> tuple[str, str]:
    shift = session.exec(select(Shift).where(Shift.start == start)).one()
    return shift.primary_id, shift.secondary_id


def test_on_call_now_next_and_the_coming_weeks(runtime: Runtime) -> None:
    handoffs = [datetime(2026, 11, 30, 15, 0, tzinfo=UTC) + timedelta(weeks=week) for week in range(4)]
    with runtime.session() as session:
        team = resolve_team(session)
        now = on_call_at(session, team, NOW)
        following = next_on_call(session, team, NOW)
        coming = shifts_between(session, team, NOW, 2)
        pairs = [stored_pair(session, start) for start in handoffs]

    assert now is not None
    assert (now.primary.name, now.secondary.name) == ("Dana", "Alice")  # started before install: round robin
    assert now.start == handoffs[0]
    assert now.end == handoffs[1]
    assert now.team_id == "data-eng" and now.origin == "rotation"

    assert following is not None
    assert (following.primary.id, following.secondary.id) == pairs[1]
    assert following.start == now.end == handoffs[1]

    # the third starts 14 Dec 15:00, before NOW + 2 weeks (15 Dec 12:00)
    assert [(s.primary.id, s.secondary.id) for s in coming] == pairs[:3]
    assert [s.start for s in coming[1:]] == [s.end for s in coming[:-1]]


def test_on_call_at_the_edges_of_a_shift(runtime: Runtime) -> None:
    handoff = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    with runtime.session() as session:
        team = resolve_team(session)
        just_before = on_call_at(session, team, handoff - timedelta(microseconds=1))
        at_handoff = on_call_at(session, team, handoff)
        next_at_handoff = next_on_call(session, team, handoff)
        before_rotation = on_call_at(session, team, datetime(2026, 1, 5, 14, 59, tzinfo=UTC))
        first = on_call_at(session, team, datetime(2026, 1, 5, 15, 0, tzinfo=UTC))
        in_other_zone = on_call_at(session, team, NOW.astimezone(ZoneInfo("Asia/Tokyo")))
        beyond_horizon = on_call_at(session, team, NOW + timedelta(weeks=60))
        pair_at_handoff = stored_pair(session, handoff)
        pair_after = stored_pair(session, handoff + timedelta(weeks=1))
    assert just_before is not None and just_before.primary.id == "dana"
    assert at_handoff is not None and (at_handoff.primary.id, at_handoff.secondary.id) == pair_at_handoff
    assert next_at_handoff is not None and (next_at_handoff.primary.id, next_at_handoff.secondary.id) == pair_after
    assert before_rotation is None
    assert first is not None and (first.primary.id, first.secondary.id) == ("alice", "bob")
    assert in_other_zone is not None and in_other_zone.primary.id == "dana"
    assert beyond_horizon is None
