"""The fair generator against the real database: freeze rules, time off, infeasibility."""

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from core.runtime import Runtime
from schedules import planner
from schedules.planner import ScheduleInfeasible
from storage.db import session_scope
from storage.models import Shift, Team
from tests.conftest import NOW


def _team(runtime: Runtime) -> Team:
    with runtime.session() as session:
        team = session.get(Team, "data-eng")
        assert team is not None
        return team


def _shifts(runtime: Runtime) -> list[tuple[object, str, str, str]]:
    with runtime.session() as session:
        rows = session.exec(select(Shift).order_by(col(Shift.start))).all()
        return [(s.start, s.primary_id, s.secondary_id, s.origin) for s in rows]


def test_example_team_2027_is_conflict_free_and_balanced(runtime: Runtime) -> None:
    horizon = planner.horizon_from(_team(runtime), date(2027, 1, 4), 52)
    with session_scope(runtime.engine) as session:
        planner.generate(session, horizon, NOW)
    with runtime.session() as session:
        report = planner.fairness(session, horizon, NOW)
    assert report.metric("conflicts").spread == 0
    for metric in ("primary", "secondary", "weekend_days"):
        assert report.metric(metric).spread <= report.metric(metric).limit, metric


def test_away_regenerates_the_future_but_keeps_the_past_and_the_freeze_window(runtime: Runtime) -> None:
    before = _shifts(runtime)
    frozen_until = NOW + timedelta(days=14)
    with session_scope(runtime.engine) as session:
        changes = planner.record_time_off(session, "bob", date(2027, 1, 4), date(2027, 1, 17), "ski", NOW).changes
    after = _shifts(runtime)
    assert changes
    assert [s for s in after if s[0] < frozen_until] == [s for s in before if s[0] < frozen_until]  # type: ignore[operator]
    january = [s for s in after if date(2027, 1, 4) <= s[0].date() <= date(2027, 1, 17)]  # type: ignore[attr-defined]
    assert january and all("bob" not in (primary, secondary) for _, primary, secondary, _ in january)


def test_everyone_away_is_refused_with_the_dates_and_nothing_is_written(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        for member in ("alice", "bob"):
            planner.record_time_off(session, member, date(2027, 3, 1), date(2027, 3, 7), "", NOW)
        before = session.exec(select(Shift).order_by(col(Shift.start))).all()
        snapshot = [(s.start, s.primary_id, s.secondary_id) for s in before]
    with pytest.raises(ScheduleInfeasible, match="2027-03-01") as refused, session_scope(runtime.engine) as session:
        planner.record_time_off(session, "charlie", date(2027, 3, 1), date(2027, 3, 7), "", NOW)
    assert "only dana is available" in str(refused.value)
    assert [(s[0], s[1], s[2]) for s in _shifts(runtime)] == snapshot
