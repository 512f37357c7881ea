"""How fair a schedule is, and the best any schedule could do for the same inputs.

A metric's number is only meaningful next to its *limit*: with one member away for two
months, a primary spread of 2 may be the best possible.  The limits are lexicographic, in
the solver's priority order: primary first, then secondary among schedules whose primary
spread is at its limit, then weekend days among schedules at both count limits.

| metric        | reported value                       | limit                                        |
|---------------|--------------------------------------|----------------------------------------------|
| primary       | spread (max - min) incl. history     | exact, by augmenting paths (max-flow)        |
| secondary     | spread incl. history                 | exact per role; with the primary limit      |
|               |                                      | imposed, a sound bound (see below)           |
| weekend_days  | spread incl. history                 | exact for equal weekend days per free slot  |
|               |                                      | given both count ranges; else a sound bound  |
| holiday_days  | TOTAL own-holiday days on call in    | each slot's two lightest available members   |
|               | the horizon (history cannot change)  | (sound minimum)                              |
| major_holidays| spread of major holidays as primary, | water-filling: the best spread with nobody   |
|               | history included                     | away (sound bound)                           |
| back_to_back  | TOTAL pairs of consecutive shifts    | sound minimum total (who could be on call)   |
|               | with the same member on call         |                                              |
| conflicts     | TOTAL (slot, role) while unavailable | conflicts already inside fixed slots         |

Spreads are taken over the members the horizon can still give a shift to
(`Instance.counted`): someone who left but holds a frozen week, or is away the whole
horizon, is listed with their totals but cannot move, and counting them would make every
spread look as good as it gets.
For holiday_days, back_to_back and conflicts the `spread` field holds the total and
`limit` its minimum.  Own-holiday days are a burden to avoid first and to share second,
so their total is the metric; the solver spreads the unavoidable ones evenly.
The secondary limit bounds each member's secondaries by the weeks left after the primaries
the primary limit forces on them, and from below by the weeks where only two people are
available (whoever is not primary is secondary): necessary conditions, so a sound bound,
exact in every brute-forced case without history and tight unless availability is scarce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schedules.solver import Assignment, History, Instance, Problem, compile_problem, compute_targets

EXACT_LIMITS = ("primary", "conflicts")  # the other limits are sound lower bounds
METRICS = ("primary", "secondary", "holiday_days", "weekend_days", "major_holidays", "back_to_back", "conflicts")


@dataclass(frozen=True)
class MemberStats:
    """One member's totals, history included where history has the metric."""

    member: str
    primary: int
    secondary: int
    holiday_days: int
    weekend_days: int
    major_holidays: int
    back_to_back: int
    conflicts: int


@dataclass(frozen=True)
class MetricSummary:
    """`spread` is max - min over the counted members, or the total for holiday_days,
    back_to_back and conflicts."""

    metric: str
    spread: int
    limit: int


@dataclass(frozen=True)
class FairnessReport:
    members: tuple[MemberStats, ...]
    metrics: tuple[MetricSummary, ...]

    def at_limit(self) -> bool:
        """Every metric as good as the inputs allow."""
        return all(summary.spread <= summary.limit for summary in self.metrics)

    def metric(self, name: str) -> MetricSummary:
        return next(summary for summary in self.metrics if summary.metric == name)


def limits(problem: Problem) -> dict[str, int]:
    """Best achievable value per metric (see the module docstring); raises `Infeasible`."""
    return _limits(compile_problem(problem))


def evaluate(problem: Problem, assignments: Sequence[Assignment]) -> FairnessReport:
    """Per-member totals and each metric next to its limit; raises `Infeasible` like `solve`."""
    inst = compile_problem(problem)
    if len(assignments) != inst.n_slots:
        raise ValueError(f"{len(assignments)} assignments for {inst.n_slots} slots")
    stats = _member_stats(inst, assignments)
    best = _limits(inst)
    counted = [stats[m] for m in inst.counted]  # whom the schedule can still move
    values = {
        "primary": _spread([s.primary for s in counted]),
        "secondary": _spread([s.secondary for s in counted]),
        "holiday_days": sum(s.holiday_days for s in stats),
        "weekend_days": _spread([s.weekend_days for s in counted]),
        "major_holidays": _spread([s.major_holidays for s in counted]),
        "back_to_back": sum(s.back_to_back for s in stats),
        "conflicts": sum(s.conflicts for s in stats),
    }
    return FairnessReport(
        members=tuple(stats),
        metrics=tuple(MetricSummary(name, values[name], best[name]) for name in METRICS),
    )


def _limits(inst: Instance) -> dict[str, int]:
    """The solver's limits plus the major-holiday one, which only the report needs."""
    return compute_targets(inst).limits() | {"major_holidays": _major_holiday_limit(inst)}


def _spread(values: Sequence[int]) -> int:
    return max(values) - min(values) if values else 0


def _member_stats(inst: Instance, assignments: Sequence[Assignment]) -> list[MemberStats]:
    problem = inst.problem
    index = {name: k for k, name in enumerate(problem.members)}
    totals = [[0] * 7 for _ in problem.members]  # primary, secondary, holiday, weekend, major, b2b, conflicts
    for m, name in enumerate(problem.members):
        history = problem.history.get(name, History())
        totals[m][:5] = [
            history.primary,
            history.secondary,
            0,  # own-holiday days: this horizon only, where they can still be avoided
            history.weekend_days,
            history.major_holidays,
        ]
    before: tuple[int, ...] = inst.previous
    for i, assignment in enumerate(assignments):
        pair = tuple(_member(index, name) for name in (assignment.primary, assignment.secondary))
        for role, m in enumerate(pair):
            row = totals[m]
            row[role] += 1
            row[2] += inst.holidays[i][m]
            row[3] += inst.weekend[i]
            row[5] += m in before
            row[6] += m not in inst.avail_set[i]
        totals[pair[0]][4] += problem.major_holidays.get(i, 0)
        before = pair
    return [MemberStats(name, *totals[m]) for m, name in enumerate(problem.members)]


def _major_holiday_limit(inst: Instance) -> int:
    """Water-filling: each major holiday not already fixed goes to whoever has fewest.

    That is the best spread with nobody away; a sound bound, and what the holiday
    rotation (`schedules.holiday_rotation`) reaches when the holiday's shift allows it.
    """
    problem = inst.problem
    loads = [problem.history.get(name, History()).major_holidays for name in problem.members]
    free = 0
    for slot, count in problem.major_holidays.items():
        fixed = inst.fixed[slot]
        if fixed is None:
            free += count
        else:
            loads[fixed[0]] += count
    counted = [loads[m] for m in inst.counted]
    for _ in range(free):
        counted[counted.index(min(counted))] += 1
    return _spread(counted)


def _member(index: dict[str, int], name: str) -> int:
    if name not in index:
        raise ValueError(f"{name} is not in the rotation")
    return index[name]
