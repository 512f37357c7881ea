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
| holiday_days  | spread of own-holiday days on call   | sound lower bound (totals and forced loads)  |
| back_to_back  | TOTAL pairs of consecutive shifts    | sound minimum total (who could be on call)   |
|               | with the same member on call         |                                              |
| conflicts     | TOTAL (slot, role) while unavailable | conflicts already inside fixed slots         |

For back_to_back and conflicts the `spread` field holds the total and `limit` its minimum.
The secondary limit bounds each member's secondaries by the weeks left after the primaries
the primary limit forces on them, and from below by the weeks where only two people are
available (whoever is not primary is secondary): necessary conditions, so a sound bound,
exact in every brute-forced case without history and tight unless availability is scarce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schedules.solver import Assignment, Instance, Problem, compile_problem, compute_targets

METRICS = ("primary", "secondary", "holiday_days", "weekend_days", "back_to_back", "conflicts")


@dataclass(frozen=True)
class MemberStats:
    """One member's totals, history included where history has the metric."""

    member: str
    primary: int
    secondary: int
    holiday_days: int
    weekend_days: int
    back_to_back: int
    conflicts: int


@dataclass(frozen=True)
class MetricSummary:
    """`spread` is max - min over members, or the total for back_to_back and conflicts."""

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
    return compute_targets(compile_problem(problem)).limits()


def evaluate(problem: Problem, assignments: Sequence[Assignment]) -> FairnessReport:
    """Per-member totals and each metric next to its limit; raises `Infeasible` like `solve`."""
    inst = compile_problem(problem)
    if len(assignments) != inst.n_slots:
        raise ValueError(f"{len(assignments)} assignments for {inst.n_slots} slots")
    stats = _member_stats(inst, assignments)
    best = compute_targets(inst).limits()
    values = {
        "primary": _spread([s.primary for s in stats]),
        "secondary": _spread([s.secondary for s in stats]),
        "holiday_days": _spread([s.holiday_days for s in stats]),
        "weekend_days": _spread([s.weekend_days for s in stats]),
        "back_to_back": sum(s.back_to_back for s in stats),
        "conflicts": sum(s.conflicts for s in stats),
    }
    return FairnessReport(
        members=tuple(stats),
        metrics=tuple(MetricSummary(name, values[name], best[name]) for name in METRICS),
    )


def _spread(values: Sequence[int]) -> int:
    return max(values) - min(values) if values else 0


def _member_stats(inst: Instance, assignments: Sequence[Assignment]) -> list[MemberStats]:
    problem = inst.problem
    index = {name: k for k, name in enumerate(problem.members)}
    totals = [[0] * 6 for _ in problem.members]  # primary, secondary, holiday, weekend, b2b, conflicts
    for m, name in enumerate(problem.members):
        history = problem.history.get(name)
        if history is not None:
            totals[m][:4] = [history.primary, history.secondary, history.holiday_days, history.weekend_days]
    before: tuple[int, ...] = inst.previous
    for i, assignment in enumerate(assignments):
        pair = tuple(_member(index, name) for name in (assignment.primary, assignment.secondary))
        for role, m in enumerate(pair):
            row = totals[m]
            row[role] += 1
            row[2] += inst.holidays[i][m]
            row[3] += inst.weekend[i]
            row[4] += m in before
            row[5] += m not in inst.avail_set[i]
        before = pair
    return [MemberStats(name, *totals[m]) for m, name in enumerate(problem.members)]


def _member(index: dict[str, int], name: str) -> int:
    if name not in index:
        raise ValueError(f"{name} is not in the rotation")
    return index[name]
