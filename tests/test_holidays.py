"""The major-holiday rotation: the pure rule, the plan in the database, its effect on the
schedule and on time off, and `oncall holidays plan` as a user runs it."""

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, select, update

from schedules import absences, planner
from schedules.generate import rotation_of
from schedules.holiday_plan import shift_of
from schedules.holiday_rotation import MajorHoliday, NobodyAvailable, PastHoliday, plan_holidays
from storage.db import session_scope
from storage.models import HolidayAssignment, Shift, Team
from tests.conftest import NOW
from tests.test_cli import ok
from usecases.runtime import Runtime

MEMBERS = ("alice", "bob", "charlie", "dana")
NEW_YORK = ZoneInfo("America/New_York")


def _holidays(year: int, shifts: tuple[int, ...] = (0, 26, 47, 51)) -> list[MajorHoliday]:
    names_days = [("New Year's Day", 1, 1), ("Independence Day", 7, 4), ("Thanksgiving Day", 11, 25)]
    names_days.append(("Christmas Day", 12, 25))
    return [MajorHoliday(name, date(year, m, d), shift) for (name, m, d), shift in zip(names_days, shifts, strict=True)]


# --- the pure rule -----------------------------------------------------------------------


def test_fewest_major_holidays_go_first_then_longest_without() -> None:
    past = [
        PastHoliday("Christmas Day", date(2026, 12, 25), "alice"),
        PastHoliday("Thanksgiving Day", date(2026, 11, 26), "alice"),
        PastHoliday("Independence Day", date(2026, 7, 4), "bob"),
    ]
    plan = plan_holidays(_holidays(2027), MEMBERS, past, {})
    # charlie and dana have none; then bob (one, longest ago); Christmas skips alice (hers
    # last year) and goes to charlie, whose one holiday is older than dana's
    assert plan == {
        "New Year's Day": "charlie",
        "Independence Day": "dana",
        "Thanksgiving Day": "bob",
        "Christmas Day": "charlie",
    }


def test_nobody_gets_last_years_holiday_unless_nobody_else_can() -> None:
    past = [PastHoliday("Christmas Day", date(2026, 12, 25), "alice")]
    busy = {"bob": frozenset({51}), "charlie": frozenset({51}), "dana": frozenset({51})}
    christmas = [MajorHoliday("Christmas Day", date(2027, 12, 25), 51)]
    assert plan_holidays(christmas, MEMBERS, past, {}) != {"Christmas Day": "alice"}
    assert plan_holidays(christmas, MEMBERS, past, busy) == {"Christmas Day": "alice"}


def test_holidays_in_one_shift_go_to_one_person_and_kept_ones_stay() -> None:
    two_in_one = [
        MajorHoliday("Christmas Day", date(2027, 12, 25), 51),
        MajorHoliday("Boxing Day", date(2027, 12, 26), 51),
    ]
    plan = plan_holidays(two_in_one, MEMBERS, [], {})
    assert plan["Christmas Day"] == plan["Boxing Day"]
    assert plan_holidays(_holidays(2027), MEMBERS, [], {}, kept={"New Year's Day": "dana"})["New Year's Day"] == "dana"


def test_a_holiday_nobody_can_cover_is_refused_by_name() -> None:
    everyone_away = {member: frozenset({26}) for member in MEMBERS}
    with pytest.raises(NobodyAvailable, match=r"Independence Day \(2027-07-04\)"):
        plan_holidays(_holidays(2027), MEMBERS, [], everyone_away)


@given(
    members=st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=8, unique=True),
    past_owners=st.lists(st.sampled_from("abcdefgh"), max_size=12),
    away=st.dictionaries(st.sampled_from("abcdefgh"), st.frozensets(st.sampled_from((0, 26, 47, 51)))),
)
def test_every_holiday_goes_to_someone_available_deterministically(
    members: list[str], past_owners: list[str], away: dict[str, frozenset[int]]
) -> None:
    past = [PastHoliday("Christmas Day", date(2000 + k, 12, 25), who) for k, who in enumerate(past_owners)]
    holidays = _holidays(2027)
    try:
        plan = plan_holidays(holidays, members, past, away)
    except NobodyAvailable:
        assert any(all(h.shift in away.get(m, frozenset()) for m in members) for h in holidays)
        return
    assert set(plan) == {h.name for h in holidays}
    for holiday in holidays:
        assert plan[holiday.name] in members and holiday.shift not in away.get(plan[holiday.name], frozenset())
    assert plan == plan_holidays(holidays, members, list(reversed(past)), away)


# --- in the database ---------------------------------------------------------------------


def _team(session: Session) -> Team:
    team = session.get(Team, "data-eng")
    assert team is not None
    return team


@pytest.fixture
def through_2027(runtime: Runtime) -> Runtime:
    """The example team with every 2027 shift stored (the default horizon ends in November)."""
    with session_scope(runtime.engine) as session:
        planner.generate(session, planner.horizon_from(_team(session), date(2027, 1, 1), 53), NOW)
    return runtime


def _primary_on(session: Session, team: Team, day: date) -> tuple[str, str]:
    start, _ = rotation_of(team).window(shift_of(rotation_of(team), day))
    shift = session.exec(select(Shift).where(Shift.team_id == team.id, Shift.start == start)).one()
    return shift.primary_id, shift.secondary_id


def test_the_schedule_plans_each_years_holidays_and_follows_the_plan(through_2027: Runtime) -> None:
    runtime = through_2027
    with session_scope(runtime.engine) as session:  # planned when the schedule first reached 2027
        plan, changes = planner.plan_holidays(session, _team(session), 2027, NOW)
    assert not plan.created and changes == []
    assert plan.country == "US" and not plan.missing
    assert [(h.name, h.day) for h in plan.holidays] == [
        ("New Year's Day", date(2027, 1, 1)),
        ("Independence Day", date(2027, 7, 4)),
        ("Thanksgiving Day", date(2027, 11, 25)),
        ("Christmas Day", date(2027, 12, 25)),
    ]
    with runtime.session() as session:
        team = _team(session)
        for holiday in plan.holidays:
            assert _primary_on(session, team, holiday.day)[0] == holiday.member, holiday


def test_the_schedule_follows_an_edited_plan_and_a_replan(through_2027: Runtime) -> None:
    runtime = through_2027
    christmas = date(2027, 12, 25)
    with session_scope(runtime.engine) as session:
        team = _team(session)
        planned = _primary_on(session, team, christmas)[0]
        stand_in = next(m for m in ("alice", "bob", "charlie", "dana") if m != planned)
        session.execute(  # the team agrees on a different Christmas
            update(HolidayAssignment).where(col(HolidayAssignment.day) == christmas).values(member_id=stand_in)
        )
        planner.regenerate(session, team, NOW)
        assert _primary_on(session, team, christmas)[0] == stand_in
        plan, _ = planner.plan_holidays(session, team, 2027, NOW, replan=True)
    assert plan.created and len({h.member for h in plan.holidays}) > 1
    with runtime.session() as session:
        for holiday in plan.holidays:
            assert _primary_on(session, _team(session), holiday.day)[0] == holiday.member, holiday


def test_the_next_year_gives_nobody_the_same_holiday_and_balances_counts(through_2027: Runtime) -> None:
    runtime = through_2027
    with session_scope(runtime.engine) as session:
        first, _ = planner.plan_holidays(session, _team(session), 2027, NOW)
        second, _ = planner.plan_holidays(session, _team(session), 2028, NOW)
        rows = session.exec(select(HolidayAssignment)).all()
    before = {h.name: h.member for h in first.holidays}
    assert all(before[h.name] != h.member for h in second.holidays)
    both_years = Counter(row.member_id for row in rows if row.year in (2027, 2028))
    assert max(both_years.values()) - min(both_years.values()) <= 1 and len(both_years) == 4


def test_time_off_over_a_planned_holiday_moves_it_and_says_so(through_2027: Runtime) -> None:
    runtime = through_2027
    with session_scope(runtime.engine) as session:
        plan, _ = planner.plan_holidays(session, _team(session), 2027, NOW)
    christmas = next(h for h in plan.holidays if h.name == "Christmas Day")
    with session_scope(runtime.engine) as session:
        result = absences.record_time_off(session, christmas.member, date(2027, 12, 20), date(2027, 12, 31), "", NOW)
    assert len(result.holidays_moved) == 1
    assert result.holidays_moved[0].startswith(f"Christmas Day 2027: {christmas.member} -> ")
    new_member = result.holidays_moved[0].rsplit(" ", 1)[1]
    with runtime.session() as session:
        primary, secondary = _primary_on(session, _team(session), date(2027, 12, 25))
    assert primary == new_member and christmas.member not in (primary, secondary)


def test_the_fairness_report_counts_major_holidays_at_their_limit(through_2027: Runtime) -> None:
    runtime = through_2027
    with session_scope(runtime.engine) as session:
        team = _team(session)
        planner.plan_holidays(session, team, 2027, NOW)
        horizon = planner.horizon_from(team, date(2027, 1, 1), 52)
        report = planner.fairness(session, horizon, NOW)
    major = report.metric("major_holidays")
    assert major.spread <= major.limit and sum(m.major_holidays for m in report.members) >= 4


def test_holidays_plan_from_the_terminal(workdir: Path) -> None:
    year = datetime.now(UTC).astimezone(NEW_YORK).year + 2  # beyond the stored year of shifts, on the real clock
    out = ok(workdir, "holidays", "plan", str(year))
    assert out.startswith(f"Planned: major holidays {year} (US calendar)")
    assert "Thanksgiving Day" in out and "Christmas Day" in out
    assert ok(workdir, "holidays", "plan", str(year)).startswith("Already planned (use --replan to plan again)")
