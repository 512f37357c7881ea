"""The fair schedule generator: hard rules, limits reached, determinism, infeasibility.

Property tests draw random teams (2-30 members), horizons, blocks of time off, holiday
counts and consistent fixed/pinned slots; worked examples pin down the messages and the
behaviour people rely on; a brute force checks the limits on small cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules.fairness import evaluate, limits
from schedules.solver import Assignment, History, Infeasible, Problem, Slot, solve

K = TypeVar("K")
V = TypeVar("V")
FIRST_MONDAY = date(2027, 1, 4)
SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def weekly(count: int, first: date = FIRST_MONDAY) -> tuple[Slot, ...]:
    starts = [first + timedelta(weeks=i) for i in range(count)]
    return tuple(Slot(start, tuple(start + timedelta(days=d) for d in range(7))) for start in starts)


def available(problem: Problem, slot: int) -> list[str]:
    return [m for m in problem.members if slot not in problem.unavailable.get(m, frozenset())]


@st.composite
def problems(draw: st.DrawFn, max_members: int = 30, max_slots: int = 30, away: bool = True) -> Problem:
    """A random problem whose fixed and pinned slots are consistent with availability."""
    size = draw(st.integers(2, max_members))
    members = tuple(f"m{k:02d}" for k in range(size))
    count = draw(st.integers(1, max_slots))
    unavailable: dict[str, frozenset[int]] = {}
    if away:
        for name in members:
            blocks = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(1, 4)), max_size=3))
            unavailable[name] = frozenset(w for start, length in blocks for w in range(start, start + length))
    holidays = {
        name: draw(st.dictionaries(st.integers(0, count - 1), st.integers(0, 3), max_size=4)) for name in members
    }
    history = draw(st.dictionaries(st.sampled_from(members), st.builds(History, *[st.integers(0, 3)] * 4)))
    problem = Problem(members, weekly(count), unavailable, holidays, history=history)
    return _with_decisions(draw, problem)


def _with_decisions(draw: st.DrawFn, problem: Problem) -> Problem:
    fixed: dict[int, tuple[str, str]] = {}
    pinned: dict[int, str] = {}
    for slot in range(len(problem.slots)):
        free = available(problem, slot)
        kind = draw(st.sampled_from(["none", "none", "none", "fixed", "pinned"]))
        if len(free) >= 2 and kind == "fixed":
            primary = draw(st.sampled_from(free))
            fixed[slot] = (primary, draw(st.sampled_from([m for m in free if m != primary])))
        elif len(free) >= 2 and kind == "pinned":
            pinned[slot] = draw(st.sampled_from(free))
    previous = draw(st.none() | st.permutations(problem.members).map(lambda order: (order[0], order[1])))
    return Problem(
        problem.members,
        problem.slots,
        problem.unavailable,
        problem.own_holidays,
        fixed,
        pinned,
        problem.history,
        previous,
    )


def feasible(problem: Problem) -> bool:
    return all(len(available(problem, i)) >= 2 for i in range(len(problem.slots)) if i not in problem.fixed)


def flip(mapping: Mapping[K, V]) -> dict[K, V]:
    """The same entries, inserted in reverse order."""
    return dict(reversed(list(mapping.items())))


def reordered(problem: Problem) -> Problem:
    """The same problem with every mapping built in reverse insertion order."""
    return Problem(
        problem.members,
        problem.slots,
        flip(problem.unavailable),
        flip({name: flip(days) for name, days in problem.own_holidays.items()}),
        flip(problem.fixed),
        flip(problem.pinned_primary),
        flip(problem.history),
        problem.previous,
    )


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(problems())
def test_hard_rules_hold_and_counts_reach_their_limits(problem: Problem) -> None:
    if not feasible(problem):
        with pytest.raises(Infeasible):
            solve(problem)
        return
    schedule = solve(problem)
    assert len(schedule) == len(problem.slots)
    for i, assignment in enumerate(schedule):
        assert assignment.primary != assignment.secondary
        if i in problem.fixed:
            assert (assignment.primary, assignment.secondary) == problem.fixed[i]
        if i in problem.pinned_primary:
            assert assignment.primary == problem.pinned_primary[i]
    report = evaluate(problem, schedule)
    assert report.metric("conflicts").spread == 0
    assert report.metric("primary").spread == report.metric("primary").limit
    secondary = report.metric("secondary")
    if not problem.history:
        assert secondary.spread == secondary.limit
    else:
        # Known gap: history skewed against a horizon of a few weeks can need role
        # rearrangements across several slots that the repair does not search.
        assert secondary.spread <= secondary.limit + 2


@SETTINGS
@given(problems(away=False))
def test_counts_differ_by_at_most_one_when_nobody_is_away(problem: Problem) -> None:
    bare = Problem(problem.members, problem.slots, own_holidays=problem.own_holidays)
    report = evaluate(bare, solve(bare))
    assert report.metric("primary").spread <= 1
    assert report.metric("secondary").spread <= 1


@SETTINGS
@given(problems())
def test_same_input_same_schedule_whatever_the_dict_order(problem: Problem) -> None:
    if not feasible(problem):
        return
    first = solve(problem)
    assert solve(problem) == first
    assert solve(reordered(problem)) == first


@SETTINGS
@given(problems(), st.data())
def test_a_stored_schedule_is_kept_at_its_limits_and_any_stored_one_only_a_start(
    problem: Problem, data: st.DataObject
) -> None:
    if not feasible(problem):
        return
    first = solve(problem)
    stored = {i: (a.primary, a.secondary) for i, a in enumerate(first) if i not in problem.fixed}
    if evaluate(problem, first).at_limit():
        assert solve(replace(problem, current=stored)) == first  # a regeneration with nothing to fix changes nothing
    names = st.sampled_from((*problem.members, "someone-who-left"))
    garbage = {i: (data.draw(names), data.draw(names)) for i in range(len(problem.slots))}
    schedule = solve(replace(problem, current=garbage))
    for i, assignment in enumerate(schedule):
        assert assignment.primary != assignment.secondary
        assert i not in problem.unavailable.get(assignment.primary, frozenset())
        assert i not in problem.unavailable.get(assignment.secondary, frozenset())
        assert problem.fixed.get(i, (assignment.primary, assignment.secondary)) == (
            assignment.primary,
            assignment.secondary,
        )
        assert problem.pinned_primary.get(i, assignment.primary) == assignment.primary
    report = evaluate(problem, schedule)
    assert report.metric("primary").spread == report.metric("primary").limit


@SETTINGS
@given(problems(max_members=5, max_slots=12), st.data())
def test_infeasible_input_names_the_dates(problem: Problem, data: st.DataObject) -> None:
    slot = data.draw(st.integers(0, len(problem.slots) - 1))
    keep = data.draw(st.sampled_from(problem.members))
    away = {name: frozenset(problem.unavailable.get(name, frozenset()) | {slot}) for name in problem.members}
    away[keep] = frozenset(problem.unavailable.get(keep, frozenset()) - {slot})
    fixed = {i: pair for i, pair in problem.fixed.items() if i != slot}
    broken = Problem(problem.members, problem.slots, away, fixed=fixed)
    with pytest.raises(Infeasible) as caught:
        solve(broken)
    assert slot in caught.value.slots
    assert any(covers(line, problem.slots[slot].start) for line in str(caught.value).splitlines())


def covers(line: str, day: date) -> bool:
    """Whether an Infeasible line 'YYYY-MM-DD to YYYY-MM-DD: reason' spans `day`."""
    first, _, rest = line.partition(" to ")
    return date.fromisoformat(first) <= day < date.fromisoformat(rest[:10])


# --------------------------------------------------------------------------- worked examples

TEAM = ("alice", "bob", "charlie", "dana")


def test_four_people_over_2027_reach_every_limit_without_back_to_back() -> None:
    problem = Problem(TEAM, weekly(52))
    report = evaluate(problem, solve(problem))
    assert report.at_limit()
    assert report.metric("back_to_back").spread == 0
    assert {(s.primary, s.secondary) for s in report.members} == {(13, 13)}


def test_four_people_with_holidays_keep_counts_and_avoid_holidays() -> None:
    """US and GB holidays: every count limit and the fewest holiday days possible.  Avoiding
    holidays breaks the no-back-to-back rhythm (alternating pairs); the back-to-back bound
    ignores the count rules, and the measured gap to it here is 8."""
    slots = weekly(52)
    us = {2: 1, 6: 1, 21: 1, 23: 1, 26: 1, 35: 1, 40: 1, 44: 1, 46: 1, 50: 1, 51: 1}
    gb = {0: 1, 11: 1, 12: 1, 17: 1, 21: 1, 34: 1, 51: 3}
    problem = Problem(TEAM, slots, own_holidays={"alice": us, "bob": us, "charlie": gb, "dana": gb})
    report = evaluate(problem, solve(problem))
    for summary in report.metrics:
        slack = 8 if summary.metric == "back_to_back" else 0
        assert summary.spread <= summary.limit + slack, summary


def test_a_week_with_one_person_available_is_infeasible() -> None:
    slots = weekly(10, date(2027, 1, 4))
    week = 8  # 2027-03-01
    away = {name: frozenset({week}) for name in ("alice", "bob", "charlie")}
    with pytest.raises(Infeasible) as caught:
        solve(Problem(TEAM, slots, away))
    assert str(caught.value) == (
        "2027-03-01 to 2027-03-08: only dana is available; a shift needs a primary and a secondary"
    )
    assert caught.value.slots == (week,)


def test_consecutive_bad_weeks_are_reported_as_one_range() -> None:
    away = {name: frozenset({3, 4}) for name in TEAM}
    with pytest.raises(Infeasible) as caught:
        solve(Problem(TEAM, weekly(6), away))
    assert str(caught.value).startswith("2027-01-25 to 2027-02-08: nobody is available")
    assert caught.value.slots == (3, 4)


def test_an_unavailable_pinned_primary_is_infeasible() -> None:
    problem = Problem(TEAM, weekly(52), {"bob": frozenset({50})}, pinned_primary={50: "bob"})
    with pytest.raises(Infeasible, match=r"2027-12-20 to 2027-12-27: bob is pinned as primary"):
        solve(problem)


def test_fixed_and_pinned_slots_are_kept() -> None:
    problem = Problem(TEAM, weekly(8), fixed={0: ("dana", "alice")}, pinned_primary={5: "charlie"})
    schedule = solve(problem)
    assert schedule[0] == Assignment("dana", "alice")
    assert schedule[5].primary == "charlie"


def test_history_carries_over() -> None:
    """Alice already did three extra primary weeks, so she gets fewer now."""
    problem = Problem(TEAM, weekly(12), history={"alice": History(primary=3)})
    schedule = solve(problem)
    weeks = {name: sum(a.primary == name for a in schedule) for name in TEAM}
    assert all(weeks["alice"] < weeks[name] for name in TEAM[1:])
    assert evaluate(problem, schedule).metric("primary").spread <= 1


def test_previous_shift_counts_for_back_to_back() -> None:
    problem = Problem(TEAM, weekly(4), previous=("alice", "bob"))
    assert {solve(problem)[0].primary, solve(problem)[0].secondary} == {"charlie", "dana"}


# --------------------------------------------------------------------------- brute force


def every_schedule(problem: Problem) -> Iterator[tuple[Assignment, ...]]:
    choices = []
    for i in range(len(problem.slots)):
        if i in problem.fixed:
            choices.append([Assignment(*problem.fixed[i])])
            continue
        free = available(problem, i)
        pinned = problem.pinned_primary.get(i)
        choices.append([Assignment(p, s) for p in free for s in free if p != s and pinned in (None, p)])
    return itertools.product(*choices)


@settings(deadline=None, max_examples=40)
@given(problems(max_members=3, max_slots=4))
def test_limits_match_brute_force_on_small_cases(problem: Problem) -> None:
    """Primary is exact; secondary and weekend are exact lexicographic bounds here (never
    above what any schedule with the earlier metrics at their limits reaches); back-to-back
    likewise among the schedules with the fewest holiday days; the rest are sound bounds.
    The solver reaches the primary and secondary optimum."""
    if not feasible(problem):
        return
    best = limits(problem)
    rows = [{m.metric: m.spread for m in evaluate(problem, schedule).metrics} for schedule in every_schedule(problem)]
    primary = min(row["primary"] for row in rows)
    secondary = min(row["secondary"] for row in rows if row["primary"] == primary)
    assert best["primary"] == primary
    assert best["secondary"] <= secondary
    at_counts = [row for row in rows if row["primary"] == primary and row["secondary"] == secondary]
    assert best["weekend_days"] <= min(row["weekend_days"] for row in at_counts)
    for metric in ("holiday_days", "conflicts"):
        assert best[metric] <= min(row[metric] for row in rows)
    fewest_holidays = min(row["holiday_days"] for row in rows)
    assert best["holiday_days"] == fewest_holidays  # the count rules never force a holiday here
    # back-to-back is bounded among the schedules with the fewest holiday days (solver order)
    assert best["back_to_back"] <= min(row["back_to_back"] for row in rows if row["holiday_days"] == fewest_holidays)
    ours = evaluate(problem, solve(problem))
    assert (ours.metric("primary").spread, ours.metric("secondary").spread) == (primary, secondary)
