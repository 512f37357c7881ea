"""The quarterly ownership rotation: who owns each pipeline next quarter.

Pure: no database, no I/O, no clock and no randomness, so the same input always gives
the same proposal (ties go to the member listed first, then the pipeline listed first,
and nothing depends on dict or set iteration order).  `catalog.owners` feeds it from the
database and writes the result.

Input
-----
* the pipelines (`PipelineSpec`: id, business area, audience), in catalog order;
* the active member ids, in catalog order (at least two);
* the past quarters' owners, oldest first, newest last: one mapping per quarter,
  pipeline id -> (primary, secondary).  Only the last `HISTORY_QUARTERS` (3) count, so
  that together with the proposed quarter they make a year.  Owners who are no longer
  members and pipelines that are no longer listed are ignored.

Output: `Proposal`, pipeline id -> (primary, secondary), the members' loads, the score
and the soft rules it could not meet.

Rules
-----
Hard: primary != secondary, both active members.  Then, lexicographically (`Score`):

(a) ``repeated_primaries``: pipelines whose primary is last quarter's primary.  Nobody
    limits how many pipelines a member may own, so with two or more members a repeat is
    *always* avoidable, one pipeline at a time: the search never offers last quarter's
    primary again, which is exactly the lexicographic minimum (always 0).
(b) ``area_gaps``: pairs (member, business area) where the member owns nothing, in
    either role, over the year (the past 3 quarters plus this one).  Zero exactly when
    every member owns something in every area; a member missing two areas counts twice.
    Only the areas of the pipelines given count.
(c) Balance of this quarter's ownership load: ``load_spread`` (heaviest minus lightest
    member), then ``load_squares`` (sum of squared loads).  Weights: a pipeline weighs
    ``AUDIENCE_WEIGHT`` (investors 2, experiments 1; anything else 1); its primary
    carries twice its weight (`PRIMARY_WEIGHT`), its secondary once (`SECONDARY_WEIGHT`).
    So primary of an investor pipeline = 4, secondary of one = 2, primary of an
    experiments pipeline = 2, secondary of one = 1.
(d) Change, for skill growth: ``repeated_secondaries`` (secondary same as last quarter),
    then ``area_familiarity`` (for each role given, how many past quarters of the year its
    member already owned something in that area: areas a member has not seen lately come
    first, which also keeps (b) reachable in the quarters to come), then
    ``pipeline_familiarity`` (the same count for the pipeline itself).

Ties: the proposal whose (primary, secondary) member positions, read pipeline by
pipeline in catalog order, come first.

Bound on balance: when `Proposal.exact` is true the score is the exact optimum, so the
load spread is the least that any proposal meeting (a) and (b) allows.  For the example
team (3 investor and 2 experiments pipelines, 4 members; 24 load units) that is 0: every
member carries 6.

Algorithm
---------
Branch and bound over the pipelines in catalog order, each taking one (primary,
secondary) pair; children are tried best bound first.  The bound of a partial proposal,
component by component (each a valid lower bound for every completion, so comparing
bounds lexicographically against the incumbent is sound):

* area gaps: per area, the members still uncovered minus two per remaining pipeline of
  that area (each pipeline covers at most two members);
* balance: the remaining load poured into the lightest members ("water filling", integer
  units), which is the most even vector any completion can reach; its max, its min (also
  capped by the lightest member taking every remaining primary) and its sum of squares;
* the additive rules: what is fixed so far plus, per remaining pipeline, its cheapest pair.

The incumbent to beat comes first from a greedy dive (best bound child at each step) and
a local search (change one pipeline's pair, or swap two role holders between pipelines,
while the (score, tie-break) key drops).  The search then computes at most
`SEARCH_BUDGET` child bounds (a fixed count, not a clock, so the result does not depend
on the machine or its load).  The example team (9 pairs per pipeline, 9^5 leaves) needs
a few thousand and is always solved exactly.  A big team (12 pipelines x 8 members:
49^12 leaves) usually stops at the budget, about half a second in all, with the local
search's result or better and ``exact`` false: the bound is weakest on balance (it
cannot see, say, that odd loads need an experiments secondary each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

AUDIENCE_WEIGHT: Mapping[str, int] = MappingProxyType({"investors": 2, "experiments": 1})
OTHER_AUDIENCE_WEIGHT = 1
PRIMARY_WEIGHT = 2
SECONDARY_WEIGHT = 1
HISTORY_QUARTERS = 3
SEARCH_BUDGET = 100_000
_LOCAL_SEARCH_ROUNDS = 50

Owners = tuple[str, str]
"""(primary, secondary) member ids."""

_Pair = tuple[int, int]  # member positions


@dataclass(frozen=True)
class PipelineSpec:
    id: str
    area: str
    audience: str

    @property
    def weight(self) -> int:
        return AUDIENCE_WEIGHT.get(self.audience, OTHER_AUDIENCE_WEIGHT)


def role_load(audience: str, primary: bool) -> int:
    """Load units one role of a pipeline with `audience` carries."""
    weight = AUDIENCE_WEIGHT.get(audience, OTHER_AUDIENCE_WEIGHT)
    return weight * (PRIMARY_WEIGHT if primary else SECONDARY_WEIGHT)


@dataclass(frozen=True, order=True)
class Score:
    """The rules in priority order; smaller is better, compared field by field."""

    repeated_primaries: int
    area_gaps: int
    load_spread: int
    load_squares: int
    repeated_secondaries: int
    area_familiarity: int
    pipeline_familiarity: int


@dataclass(frozen=True)
class Proposal:
    """Next quarter's owners, with what they cost.

    `loads` covers every member (in member order, zero included); `area_gaps` lists the
    (member, area) pairs left without ownership over the year; `exact` is false only when
    the search stopped at its budget (the result is then the best one found).
    """

    owners: Mapping[str, Owners]
    loads: Mapping[str, int]
    score: Score
    repeated_primaries: tuple[str, ...]
    repeated_secondaries: tuple[str, ...]
    area_gaps: tuple[tuple[str, str], ...]
    exact: bool


def propose(
    pipelines: Sequence[PipelineSpec],
    members: Sequence[str],
    history: Sequence[Mapping[str, Owners]] = (),
    *,
    budget: int = SEARCH_BUDGET,
) -> Proposal:
    """The best owners for the coming quarter under the rules in this module's docstring."""
    problem = _Problem(pipelines, members, history)
    start = problem.improve(problem.greedy())
    best, exact = problem.search(start, budget)
    return problem.proposal(best, exact)


def score(
    pipelines: Sequence[PipelineSpec],
    members: Sequence[str],
    history: Sequence[Mapping[str, Owners]],
    owners: Mapping[str, Owners],
) -> Score:
    """The score of any complete assignment (for comparing alternatives, and in tests)."""
    problem = _Problem(pipelines, members, history)
    index = {member: position for position, member in enumerate(members)}
    assignment = [(index[owners[p.id][0]], index[owners[p.id][1]]) for p in pipelines]
    return Score(*problem.evaluate(assignment))


class _Problem:
    """Everything precomputed once, as lists indexed by position (members, pipelines, areas)."""

    def __init__(
        self, pipelines: Sequence[PipelineSpec], members: Sequence[str], history: Sequence[Mapping[str, Owners]]
    ) -> None:
        if len(members) < 2:
            raise ValueError("a rotation needs at least two members (primary and secondary differ)")
        if len(set(members)) != len(members) or len({p.id for p in pipelines}) != len(pipelines):
            raise ValueError("member and pipeline ids must be unique")
        self.pipelines = list(pipelines)
        self.members = list(members)
        self.areas: list[str] = list(dict.fromkeys(p.area for p in pipelines))
        count, pipeline_count = len(members), len(pipelines)
        member_index = {member: m for m, member in enumerate(members)}
        area_index = {area: a for a, area in enumerate(self.areas)}
        self.area_of = [area_index[p.area] for p in pipelines]
        self.weight = [p.weight for p in pipelines]
        self.primary_load = [w * PRIMARY_WEIGHT for w in self.weight]
        self.secondary_load = [w * SECONDARY_WEIGHT for w in self.weight]

        window = list(history)[-HISTORY_QUARTERS:] if HISTORY_QUARTERS else []
        last = window[-1] if window else {}
        self.last_primary = [member_index.get(last.get(p.id, ("", ""))[0], -1) for p in pipelines]
        self.last_secondary = [member_index.get(last.get(p.id, ("", ""))[1], -1) for p in pipelines]
        self.area_seen = [[0] * len(self.areas) for _ in range(count)]  # quarters with some ownership
        self.pipeline_seen = [[0] * pipeline_count for _ in range(count)]
        for quarter in window:
            areas_owned: set[tuple[int, int]] = set()
            for i, pipeline in enumerate(pipelines):
                owners = {member_index.get(owner, -1) for owner in quarter.get(pipeline.id, ())} - {-1}
                for m in owners:
                    areas_owned.add((m, self.area_of[i]))
                    self.pipeline_seen[m][i] += 1
            for m, a in areas_owned:
                self.area_seen[m][a] += 1

        # Hard rules, and (a): last quarter's primary is never offered again (see the docstring).
        self.pairs: list[list[_Pair]] = [
            [(p, s) for p in range(count) if p != self.last_primary[i] for s in range(count) if s != p]
            for i in range(pipeline_count)
        ]
        self.costs = [[self.additive(i, pair) for pair in pairs] for i, pairs in enumerate(self.pairs)]
        # Cheapest additive cost per pipeline, summed over the suffix: part of the bound.
        self.rest_additive = [(0, 0, 0)] * (pipeline_count + 1)
        self.rest_total = [0] * (pipeline_count + 1)
        self.rest_primary = [0] * (pipeline_count + 1)
        self.rest_in_area = [[0] * len(self.areas) for _ in range(pipeline_count + 1)]
        for i in reversed(range(pipeline_count)):
            cheapest = [min(column) for column in zip(*self.costs[i], strict=True)]
            self.rest_additive[i] = (
                self.rest_additive[i + 1][0] + cheapest[1],
                self.rest_additive[i + 1][1] + cheapest[2],
                self.rest_additive[i + 1][2] + cheapest[3],
            )
            self.rest_total[i] = self.rest_total[i + 1] + self.primary_load[i] + self.secondary_load[i]
            self.rest_primary[i] = self.rest_primary[i + 1] + self.primary_load[i]
            self.rest_in_area[i] = list(self.rest_in_area[i + 1])
            self.rest_in_area[i][self.area_of[i]] += 1

    # --- scoring ------------------------------------------------------------------------

    def additive(self, i: int, pair: _Pair) -> tuple[int, int, int, int]:
        """(repeated primary, repeated secondary, area familiarity, pipeline familiarity)."""
        p, s = pair
        a = self.area_of[i]
        return (
            int(p == self.last_primary[i]),
            int(s == self.last_secondary[i]),
            self.area_seen[p][a] + self.area_seen[s][a],
            self.pipeline_seen[p][i] + self.pipeline_seen[s][i],
        )

    def loads(self, assignment: Sequence[_Pair]) -> list[int]:
        loads = [0] * len(self.members)
        for i, (p, s) in enumerate(assignment):
            loads[p] += self.primary_load[i]
            loads[s] += self.secondary_load[i]
        return loads

    def gaps(self, assignment: Sequence[_Pair]) -> list[tuple[int, int]]:
        """(member, area) positions without ownership over the year, in member then area order."""
        covered = {(m, a) for m, row in enumerate(self.area_seen) for a, seen in enumerate(row) if seen}
        covered |= {(m, self.area_of[i]) for i, pair in enumerate(assignment) for m in pair}
        return [(m, a) for m in range(len(self.members)) for a in range(len(self.areas)) if (m, a) not in covered]

    def evaluate(self, assignment: Sequence[_Pair]) -> tuple[int, ...]:
        loads = self.loads(assignment)
        additive = [0, 0, 0, 0]
        for i, pair in enumerate(assignment):
            for k, cost in enumerate(self.additive(i, pair)):
                additive[k] += cost
        repeated_primaries, repeated_secondaries, area_familiarity, pipeline_familiarity = additive
        return (
            repeated_primaries,
            len(self.gaps(assignment)),
            max(loads) - min(loads),
            sum(load * load for load in loads),
            repeated_secondaries,
            area_familiarity,
            pipeline_familiarity,
        )

    def key(self, assignment: Sequence[_Pair]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """What is minimised: the score, then the tie-break (member positions, pipeline by pipeline)."""
        return self.evaluate(assignment), _flat(assignment)

    # --- construction and local search --------------------------------------------------

    def greedy(self) -> list[_Pair]:
        """One dive of the search: at each pipeline, the pair with the best bound."""
        state = _State(self)
        for i in range(len(self.pipelines)):
            _, pair = state.children(i)[0]
            state.push(i, pair)
        return state.assignment

    def improve(self, assignment: list[_Pair]) -> list[_Pair]:
        """First-improvement local search on the full key; every accepted move lowers it."""
        current, best = list(assignment), self.key(assignment)
        for _ in range(_LOCAL_SEARCH_ROUNDS):
            improved = False
            for candidate in self._neighbours(current):
                candidate_key = self.key(candidate)
                if candidate_key < best:
                    current, best, improved = candidate, candidate_key, True
            if not improved:
                break
        return current

    def _neighbours(self, assignment: list[_Pair]) -> list[list[_Pair]]:
        neighbours = []
        for i, pairs in enumerate(self.pairs):
            for pair in pairs:
                if pair != assignment[i]:
                    neighbours.append([*assignment[:i], pair, *assignment[i + 1 :]])
        for i in range(len(assignment)):
            for j in range(i + 1, len(assignment)):
                for role_i in (0, 1):
                    for role_j in (0, 1):
                        first, second = list(assignment[i]), list(assignment[j])
                        first[role_i], second[role_j] = second[role_j], first[role_i]
                        new_i, new_j = (first[0], first[1]), (second[0], second[1])
                        if (
                            self._allowed(i, new_i)
                            and self._allowed(j, new_j)
                            and (new_i, new_j)
                            != (
                                assignment[i],
                                assignment[j],
                            )
                        ):
                            candidate = list(assignment)
                            candidate[i], candidate[j] = new_i, new_j
                            neighbours.append(candidate)
        return neighbours

    def _allowed(self, i: int, pair: _Pair) -> bool:
        return pair[0] != pair[1] and pair[0] != self.last_primary[i]

    # --- branch and bound ---------------------------------------------------------------

    def search(self, incumbent: list[_Pair], budget: int) -> tuple[list[_Pair], bool]:
        """The optimum (or the best found within `budget` bounds) and whether it is proven."""
        best_value, best_key = self.key(incumbent)
        best = list(incumbent)
        state = _State(self)
        spent = 0
        pipeline_count = len(self.pipelines)

        def dive(i: int) -> bool:
            """False once the budget is spent."""
            nonlocal best_value, best_key, best, spent
            if i == pipeline_count:
                value = self.evaluate(state.assignment)
                if (value, _flat(state.assignment)) < (best_value, best_key):
                    best_value, best_key, best = tuple(value), _flat(state.assignment), list(state.assignment)
                return True
            spent += len(self.pairs[i])
            if spent > budget:
                return False
            children = state.children(i)
            for bound, pair in children:
                if bound > best_value:
                    break  # sorted: every later child is worse too
                prefix = (*_flat(state.assignment), *pair)
                if bound == best_value and prefix > best_key[: len(prefix)]:
                    continue  # at best a tie, and it would lose the tie-break
                state.push(i, pair)
                finished = dive(i + 1)
                state.pop(i)
                if not finished:
                    return False
            return True

        exact = dive(0)
        return best, exact

    def proposal(self, assignment: Sequence[_Pair], exact: bool) -> Proposal:
        members, pipelines = self.members, self.pipelines
        loads = self.loads(assignment)
        return Proposal(
            owners=MappingProxyType(
                {p.id: (members[pair[0]], members[pair[1]]) for p, pair in zip(pipelines, assignment, strict=True)}
            ),
            loads=MappingProxyType(dict(zip(members, loads, strict=True))),
            score=Score(*self.evaluate(assignment)),
            repeated_primaries=tuple(
                p.id
                for i, (p, pair) in enumerate(zip(pipelines, assignment, strict=True))
                if pair[0] == self.last_primary[i]
            ),
            repeated_secondaries=tuple(
                p.id
                for i, (p, pair) in enumerate(zip(pipelines, assignment, strict=True))
                if pair[1] == self.last_secondary[i]
            ),
            area_gaps=tuple((members[m], self.areas[a]) for m, a in self.gaps(assignment)),
            exact=exact,
        )


class _State:
    """A partial assignment with everything the bound needs, updated incrementally."""

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem
        self.assignment: list[_Pair] = []
        self.loads = [0] * len(problem.members)
        self.held = [[0] * len(problem.areas) for _ in problem.members]  # roles held this quarter
        # members with no ownership of the area over the year so far, per area
        self.uncovered = [sum(1 for row in problem.area_seen if not row[a]) for a in range(len(problem.areas))]
        self.additive = [0, 0, 0, 0]

    def push(self, i: int, pair: _Pair) -> None:
        problem, a = self.problem, self.problem.area_of[i]
        self.assignment.append(pair)
        self.loads[pair[0]] += problem.primary_load[i]
        self.loads[pair[1]] += problem.secondary_load[i]
        for m in pair:
            self.held[m][a] += 1
            if self.held[m][a] == 1 and not problem.area_seen[m][a]:
                self.uncovered[a] -= 1
        for k, cost in enumerate(problem.additive(i, pair)):
            self.additive[k] += cost

    def pop(self, i: int) -> None:
        problem, a = self.problem, self.problem.area_of[i]
        pair = self.assignment.pop()
        self.loads[pair[0]] -= problem.primary_load[i]
        self.loads[pair[1]] -= problem.secondary_load[i]
        for m in pair:
            self.held[m][a] -= 1
            if self.held[m][a] == 0 and not problem.area_seen[m][a]:
                self.uncovered[a] += 1
        for k, cost in enumerate(problem.additive(i, pair)):
            self.additive[k] -= cost

    def children(self, i: int) -> list[tuple[tuple[int, ...], _Pair]]:
        """Every pair pipeline `i` may take, with a lower bound (rule by rule) on every
        completion of this assignment plus that pair; best bound first, then tie-break order."""
        problem, a, rest = self.problem, self.problem.area_of[i], i + 1
        in_area = problem.rest_in_area[rest]
        gap_terms = [max(0, uncovered - 2 * in_area[b]) for b, uncovered in enumerate(self.uncovered)]
        other_gaps = sum(gap_terms) - gap_terms[a]
        held, seen = self.held, problem.area_seen
        extra, reach = problem.rest_total[rest], problem.rest_primary[rest]
        primary_load, secondary_load = problem.primary_load[i], problem.secondary_load[i]
        later_secondaries, later_areas, later_pipelines = problem.rest_additive[rest]
        repeated_primaries, repeated_secondaries, areas, pipelines = self.additive
        children: list[tuple[tuple[int, ...], _Pair]] = []
        for pair, cost in zip(problem.pairs[i], problem.costs[i], strict=True):
            p, s = pair
            newly = (not held[p][a] and not seen[p][a]) + (not held[s][a] and not seen[s][a])
            loads = list(self.loads)
            loads[p] += primary_load
            loads[s] += secondary_load
            top, bottom, squares = _water_fill(loads, extra)
            bottom = min(bottom, min(loads) + reach)
            bound = (
                repeated_primaries + cost[0],
                other_gaps + max(0, self.uncovered[a] - newly - 2 * in_area[a]),
                max(0, top - bottom),
                squares,
                repeated_secondaries + cost[1] + later_secondaries,
                areas + cost[2] + later_areas,
                pipelines + cost[3] + later_pipelines,
            )
            children.append((bound, pair))
        children.sort()
        return children


def _water_fill(loads: Sequence[int], extra: int) -> tuple[int, int, int]:
    """Pour `extra` integer units into the lightest loads: (max, min, sum of squares).

    No completion can be more even: this vector has the least max, the greatest min and
    the least sum of squares of all integer vectors >= `loads` that add up the same.
    """
    ordered = sorted(loads)
    level, filled, left = ordered[0], 1, extra
    while filled < len(ordered) and left >= (ordered[filled] - level) * filled:
        left -= (ordered[filled] - level) * filled
        level = ordered[filled]
        filled += 1
    step, spare = divmod(left, filled)
    level += step
    top = ordered[-1] if filled < len(ordered) else level + (1 if spare else 0)
    squares = (filled - spare) * level * level + spare * (level + 1) ** 2 + sum(x * x for x in ordered[filled:])
    return top, level, squares


def _flat(assignment: Sequence[_Pair]) -> tuple[int, ...]:
    return tuple(member for pair in assignment for member in pair)
