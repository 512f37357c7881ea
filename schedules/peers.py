"""The two strategies the fair solver is benchmarked against.

Both keep fixed slots as given (the past and agreed swaps are facts for everyone); beyond
that they know nothing about fairness.

* `round_robin`: what the team did before the bot (and what `schedules.generate` still
  writes for weeks that had started before the first load): member i primary, member
  i + 1 secondary, blind to time off and holidays.
* `least_recent`: LinkedIn oncall's default scheduler rule.  Per role, the member whose last
  shift *in that role* ended longest ago (never-served first), skipping members who are
  unavailable or already on call in the slot; ties by member order.  It honours pinned
  primaries, which the major-holiday rotation would impose on any tool.
"""

from __future__ import annotations

from collections.abc import Sequence

from schedules.solver import Assignment, Problem

_NEVER = -(10**9)


def round_robin(problem: Problem) -> tuple[Assignment, ...]:
    """Primary members[i % n], secondary members[(i + 1) % n], ignoring availability."""
    return tuple(
        Assignment(*problem.fixed.get(i, round_robin_pair(problem.members, i))) for i in range(len(problem.slots))
    )


def round_robin_pair(members: Sequence[str], index: int) -> tuple[str, str]:
    """Primary and secondary of shift `index`: each member in turn, the next one as backup."""
    count = len(members)
    return members[index % count], members[(index + 1) % count]


def least_recent(problem: Problem) -> tuple[Assignment, ...]:
    """Per role, the available member whose last shift in that role ended longest ago.

    When fewer than two members are available it still fills the slot (from everyone), as
    the real tool would leave a gap a human fills: the benchmark counts those as conflicts.
    """
    members = problem.members
    last = {name: [_NEVER, _NEVER] for name in members}
    if problem.previous is not None:
        for role, name in enumerate(problem.previous):
            if name in last:
                last[name][role] = -1
    out: list[Assignment] = []
    for i in range(len(problem.slots)):
        pair = problem.fixed.get(i) or _pick_pair(problem, i, last)
        for role, name in enumerate(pair):
            if name in last:
                last[name][role] = i
        out.append(Assignment(*pair))
    return tuple(out)


def _pick_pair(problem: Problem, i: int, last: dict[str, list[int]]) -> tuple[str, str]:
    free = [name for name in problem.members if i not in problem.unavailable.get(name, frozenset())]
    pinned = problem.pinned_primary.get(i)
    primary = pinned if pinned is not None else _least_recent(free or problem.members, last, 0)
    others = [name for name in free if name != primary]
    secondary = _least_recent(others or [name for name in problem.members if name != primary], last, 1)
    return primary, secondary


def _least_recent(pool: Sequence[str], last: dict[str, list[int]], role: int) -> str:
    """Smallest last-shift index wins; `min` keeps the first listed on ties."""
    return min(pool, key=lambda name: last[name][role])
