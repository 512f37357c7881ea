"""The planner's promises, on random teams, through the real team file and database.

The solver's own properties are in `test_solver.py`; these check what only the database
side can break: a fresh load and a later `away` keep started and frozen shifts, never put
anyone on call while away, reach the primary/secondary limits, refuse an unstaffable week
with nothing written, and give the same schedule for the same inputs.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from catalog.loader import load_catalog
from catalog.sync import sync_catalog
from core.errors import OncallError
from runbooks.document import available_runbooks
from schedules import absences, planner
from schedules.generate import rotation_of
from storage import schema
from storage.db import make_engine, session_scope
from storage.models import Shift, Team, TimeOff
from tests.conftest import NOW, TEAM_FILE, time_off_conflicts

PLACES = [("US", "CA"), ("GB", "SCT"), ("DE", "BY"), ("FR", None), ("JP", None)]
EXAMPLE = yaml.safe_load(TEAM_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Case:
    team_file: dict[str, Any]
    away_member: str
    away_first: date
    away_days: int
    later: datetime  # when `away` is run


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A team of 2-7 in several countries, with blocks of time off around the coming year."""
    size = draw(st.integers(2, 7))
    members = []
    for k in range(size):
        country, subdivision = draw(st.sampled_from(PLACES))
        blocks = draw(st.lists(st.tuples(st.integers(-30, 400), st.integers(1, 14)), max_size=2))
        members.append(
            {
                "id": f"m{k}",
                "name": f"Member {k}",
                "slack_id": f"U0M{k}",
                "email": f"m{k}@example.com",
                "timezone": "UTC",
                "country": country,
                "subdivision": subdivision,
                "time_off": [
                    {"first_day": NOW.date() + timedelta(days=s), "last_day": NOW.date() + timedelta(days=s + n - 1)}
                    for s, n in blocks
                ],
            }
        )
    team = dict(EXAMPLE["teams"][0], members=members)
    team["rotation"] = dict(team["rotation"], start=date(2026, 1, 5) + timedelta(weeks=draw(st.integers(-20, 60))))
    team["pipelines"] = [dict(p, primary="m0", secondary="m1") for p in team["pipelines"]]
    return Case(
        team_file={"teams": [team]},
        away_member=f"m{draw(st.integers(0, size - 1))}",
        away_first=NOW.date() + timedelta(days=draw(st.integers(0, 120))),
        away_days=draw(st.integers(1, 21)),
        later=NOW + timedelta(days=draw(st.integers(0, 30)), hours=draw(st.integers(0, 23))),
    )


@contextmanager
def database() -> Iterator[tuple[Engine, Path]]:
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'oncall.db'}")
        schema.upgrade(engine)
        try:
            yield engine, Path(directory)
        finally:
            engine.dispose()


def shifts(engine: Engine) -> list[tuple[datetime, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Shift).order_by(col(Shift.start)))
        return [(s.start, s.primary_id, s.secondary_id) for s in rows]


def time_off(engine: Engine) -> list[tuple[str, date, date]]:
    with Session(engine) as session:
        return sorted((t.member_id, t.first_day, t.last_day) for t in session.exec(select(TimeOff)))


def load(engine: Engine, directory: Path, case: Case) -> bool:
    """Sync the case's team file; False when it was refused as unstaffable."""
    path = directory / "team.yaml"
    path.write_text(yaml.safe_dump(case.team_file, sort_keys=False), encoding="utf-8")
    try:
        with session_scope(engine) as session:
            sync_catalog(session, load_catalog(path, runbooks=available_runbooks()), NOW)
    except OncallError:
        return False
    return True


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_load_then_away_keeps_the_rules(case: Case) -> None:
    with database() as (engine, directory):
        if not load(engine, directory, case):
            event("team file refused")
            assert shifts(engine) == [] and time_off(engine) == []  # refused: nothing written
            return
        first_planned = min((start for start, _, _ in shifts(engine) if start > NOW), default=None)
        if first_planned is not None:
            assert time_off_conflicts(engine, first_planned) == []
        before, off_before = shifts(engine), time_off(engine)
        last_day = case.away_first + timedelta(days=case.away_days - 1)
        try:
            with session_scope(engine) as session:
                absences.record_time_off(session, case.away_member, case.away_first, last_day, "", case.later)
        except OncallError:
            event("away refused")
            assert (shifts(engine), time_off(engine)) == (before, off_before)
            return
        after = shifts(engine)
        if not after:  # the very first week nobody can staff: nothing was ever stored
            event("nothing scheduled")
            return
        event("away re-planned" if after != before else "away changed nothing")
        frozen_until = case.later + timedelta(days=14)
        assert [s for s in after if s[0] < frozen_until] == [s for s in before if s[0] < frozen_until]
        assert [s[0] for s in after] == [s[0] for s in before]  # no slot lost or added
        assert time_off_conflicts(engine, frozen_until) == []
        with Session(engine) as session:  # what the regeneration solved: from `later` to the end
            team = session.exec(select(Team)).one()
            rotation = rotation_of(team)
            first = max(0, rotation.index_at(case.later))
            horizon = planner.Horizon(team, first, rotation.index_at(after[-1][0]) - first + 1)
            report = planner.fairness(session, horizon, case.later)
        for metric in ("primary", "secondary", "conflicts"):
            assert report.metric(metric).spread == report.metric(metric).limit, metric


@settings(deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_same_team_file_gives_the_same_schedule(case: Case) -> None:
    with database() as (first, first_dir), database() as (second, second_dir):
        assert load(first, first_dir, case) == load(second, second_dir, case)
        assert shifts(first) == shifts(second)
