"""Fairness benchmark: the fair solver against round robin and LinkedIn's least-recent rule.

Run from the repository root:  python -m benchmarks.fairness_bench

Problems are synthetic and deterministic (seeded `random.Random`): the example team of
four over 2027, then 50 members x 104 weeks and 200 members x 520 weeks with members
spread over six made-up national calendars and three blocks of time off per member per
year.  For each strategy the table gives every metric (spread, or total for back_to_back
and conflicts) next to its limit, and the median wall time of a few runs.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from schedules.fairness import METRICS, FairnessReport, evaluate
from schedules.peers import least_recent, round_robin
from schedules.solver import Assignment, History, Problem, Slot, solve

Strategy = Callable[[Problem], tuple[Assignment, ...]]
STRATEGIES: tuple[tuple[str, Strategy], ...] = (
    ("round_robin", round_robin),
    ("least_recent", least_recent),
    ("fair (ours)", solve),
)

# Fabricated public holidays (month, day), the same every year: close enough to the real
# calendars for load purposes, and independent of any library.
CALENDARS: dict[str, tuple[tuple[int, int], ...]] = {
    "US": ((1, 1), (1, 18), (2, 15), (5, 31), (6, 18), (7, 5), (9, 6), (10, 11), (11, 11), (11, 25), (12, 24)),
    "GB": ((1, 1), (3, 26), (3, 29), (5, 3), (5, 31), (8, 30), (12, 27), (12, 28)),
    "DE": ((1, 1), (3, 26), (3, 29), (5, 1), (5, 6), (5, 17), (10, 3), (12, 25), (12, 26)),
    "IN": ((1, 26), (3, 8), (3, 29), (8, 15), (10, 2), (10, 29), (11, 1), (12, 25)),
    "BR": ((1, 1), (2, 8), (2, 9), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25)),
    "JP": ((1, 1), (1, 11), (2, 11), (2, 23), (3, 22), (4, 29), (5, 3), (5, 4), (5, 5), (7, 19), (9, 20), (11, 3)),
}


@dataclass(frozen=True)
class Case:
    name: str
    problem: Problem
    repeats: int


def weekly_slots(first: date, count: int, shift_days: int = 7) -> tuple[Slot, ...]:
    starts = (first + timedelta(days=shift_days * i) for i in range(count))
    return tuple(Slot(start, tuple(start + timedelta(days=d) for d in range(shift_days))) for start in starts)


def holiday_counts(slots: Sequence[Slot], country: str) -> dict[int, int]:
    """Slot index -> days in it that are public holidays in `country`."""
    days = set(CALENDARS[country])
    counts = {i: sum((day.month, day.day) in days for day in slot.days) for i, slot in enumerate(slots)}
    return {i: count for i, count in counts.items() if count}


def example_team() -> Problem:
    """alice and bob (US), charlie and dana (GB), 2027, a few weeks away, Christmas pinned."""
    slots = weekly_slots(date(2027, 1, 4), 52)
    countries = {"alice": "US", "bob": "US", "charlie": "GB", "dana": "GB"}
    christmas = next(i for i, slot in enumerate(slots) if date(2027, 12, 25) in slot.days)
    return Problem(
        members=tuple(countries),
        slots=slots,
        unavailable={"alice": frozenset({14, 15}), "charlie": frozenset({30}), "dana": frozenset({44, 45})},
        own_holidays={name: holiday_counts(slots, country) for name, country in countries.items()},
        pinned_primary={christmas: "bob"},
        previous=("dana", "charlie"),
    )


def synthetic_team(size: int, weeks: int, seed: int) -> Problem:
    """Mixed countries, three 1-3 week blocks of time off a year each, a little history."""
    rng = random.Random(seed)
    members = tuple(f"m{k:03d}" for k in range(size))
    slots = weekly_slots(date(2027, 1, 4), weeks)
    countries = {name: rng.choice(sorted(CALENDARS)) for name in members}
    away: dict[str, set[int]] = {name: set() for name in members}
    present = [size] * weeks
    for name in members:
        for year in range(0, weeks, 52):
            for _ in range(3):
                first = year + rng.randrange(52)
                block = [w for w in range(first, first + rng.randint(1, 3)) if w < weeks]
                if all(present[w] > 2 for w in block):
                    away[name].update(block)
                    for w in block:
                        present[w] -= 1
    history = {name: _history(rng) for name in members}
    return Problem(
        members=members,
        slots=slots,
        unavailable={name: frozenset(weeks_away) for name, weeks_away in away.items()},
        own_holidays={name: holiday_counts(slots, country) for name, country in countries.items()},
        history=history,
        previous=(members[0], members[1]),
    )


def _history(rng: random.Random) -> History:
    """Last year's tail: a couple of shifts, their weekend days, the odd holiday."""
    primary, secondary = rng.randint(0, 2), rng.randint(0, 2)
    return History(primary, secondary, rng.randint(0, 1), 2 * (primary + secondary))


def timed(strategy: Strategy, problem: Problem, repeats: int) -> tuple[tuple[Assignment, ...], float]:
    """Result and median wall time over `repeats` runs."""
    times: list[float] = []
    result: tuple[Assignment, ...] = ()
    for _ in range(repeats):
        began = time.perf_counter()
        result = strategy(problem)
        times.append(time.perf_counter() - began)
    return result, statistics.median(times)


def run_case(case: Case) -> list[str]:
    """Table rows for one problem plus the verdict lines."""
    reports: dict[str, FairnessReport] = {}
    seconds: dict[str, float] = {}
    for name, strategy in STRATEGIES:
        result, seconds[name] = timed(strategy, case.problem, case.repeats)
        reports[name] = evaluate(case.problem, result)
    ours = reports["fair (ours)"]
    lines = [f"## {case.name}", _header(), _row("limit", {m.metric: m.limit for m in ours.metrics}, None)]
    for name, _ in STRATEGIES:
        lines.append(_row(name, {m.metric: m.spread for m in reports[name].metrics}, seconds[name]))
    lines.extend(_verdict(reports))
    return lines


def _header() -> str:
    return f"{'strategy':<14}" + "".join(f"{metric:>14}" for metric in METRICS) + f"{'time (s)':>10}"


def _row(name: str, values: dict[str, int], seconds: float | None) -> str:
    clock = "" if seconds is None else f"{seconds:.3f}"
    return f"{name:<14}" + "".join(f"{values[metric]:>14}" for metric in METRICS) + f"{clock:>10}"


def _verdict(reports: dict[str, FairnessReport]) -> list[str]:
    ours = reports["fair (ours)"]
    missed = [m.metric for m in ours.metrics if m.spread > m.limit]
    worse = [
        f"{m.metric} vs {peer}"
        for peer in ("round_robin", "least_recent")
        for m in ours.metrics
        if m.spread > reports[peer].metric(m.metric).spread
    ]
    return [
        f"ours at the limit on every metric: {'yes' if not missed else 'no (' + ', '.join(missed) + ')'}",
        f"ours never worse than either peer: {'yes' if not worse else 'no (' + ', '.join(worse) + ')'}",
    ]


def main() -> None:
    cases = (
        Case("example team, 4 x 52 (2027)", example_team(), 5),
        Case("synthetic, 50 x 104", synthetic_team(50, 104, seed=50), 3),
        Case("synthetic, 200 x 520", synthetic_team(200, 520, seed=200), 2),
    )
    for case in cases:
        print("\n".join(run_case(case)))
        print()


if __name__ == "__main__":
    main()
