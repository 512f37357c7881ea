"""The fair schedule generator: who is primary and who is secondary in each shift.

Pure: no database, no Slack, no I/O, no clock and no randomness, so the same `Problem`
always gives the same schedule (ties go to the member listed first, and nothing depends
on dict or set iteration order).

What "fair" means here, in priority order (the issue's rules):

1. Hard: nobody on call while unavailable, primary != secondary, fixed slots kept as they
   are, pinned (major-holiday) primaries kept.  Input that cannot meet them raises
   `Infeasible`, naming the dates and the reason; it is never solved "as well as possible".
2. Primary shifts, history included, spread as evenly as availability permits; then
   secondary shifts likewise.
3. Weeks on call (hence weekend days) spread evenly; nobody on call two shifts in a row
   when availability allows; as few own public-holiday days on call as the calendar
   allows (someone for whom the day is not a holiday covers it), the unavoidable ones
   spread evenly.

Algorithm
---------
Every metric's best achievable value (its *limit*, see `compute_targets`) is computed
first, and each stage below stops as soon as its metric reaches it.

* Limits.  The vectors of per-member counts that one role can take form an M-convex set
  (integer points of the base polytope of a bipartite slot-member flow).  On such a set the
  minimum sum of squares is reached exactly when no augmenting path can move one shift from
  a member to one at least two below, and that point also minimises the largest count and
  maximises the smallest (Frank and Murota, discrete decreasing minimisation), hence the
  spread.  So a greedy start plus augmenting paths (`_decmin`, max-flow style breadth-first
  search over "x holds a slot where y is free" edges) gives the exact primary limit, and
  the exact secondary limit among schedules whose primary counts are at theirs.
* Starts.  The stored schedule comes first (`Problem.current`, invalid places refilled),
  so a regeneration keeps it when it is still at every limit and otherwise repairs it,
  changing few weeks; then, for small teams, the best pair sequence; then the greedy.
* Construction.  Week by week, greedily: primary, then secondary, is the available member
  who is under quota, urgent (about to run out of available weeks), not on call in the
  neighbouring shift, without an own holiday in the week, with the fewest role shifts,
  fewest weekend days, fewest holiday days, and least recently on call.
* Exact repair.  Augmenting paths rebalance primaries (role flips allowed, so the primary
  limit is always met), then secondaries with primaries fixed, then with flips that keep
  primaries in range, then one "relaxed" path at a time (primaries pushed one out of range,
  repaired, undone unless better); the same for weeks on call (weekend days) within the
  two count ranges just reached.
* Local search.  Swaps and replacements that keep every count inside its range remove
  back-to-back shifts, then own-holiday days; for back-to-back also whole-slot exchanges
  (two weeks trade their pairs, roles kept), which no count rule can block, and when
  those are stuck an exact re-solve of each run of four (then up to seven) weeks around
  a back-to-back, every member keeping their role counts and weekend days
  (`_Rearrangement`).  A move is accepted only
  if (sum of squared weekend days, holiday days, back-to-back shifts, sum of squared
  holiday days) drops lexicographically.  Work is capped by a fixed trial budget, not a
  clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import TypeVar

PRIMARY = 0
SECONDARY = 1
_NEVER = -(10**9)
_UNBOUNDED = 10**9
_K = TypeVar("_K")
_V = TypeVar("_V")


def _no_entries() -> Mapping[_K, _V]:
    """An empty read-only mapping: a safe shared default for the frozen dataclasses."""
    return MappingProxyType({})


@dataclass(frozen=True)
class Slot:
    """One shift: the local date it starts and the local calendar days it covers."""

    start: date
    days: tuple[date, ...]


@dataclass(frozen=True)
class History:
    """One member's totals from shifts before the horizon, so fairness carries over."""

    primary: int = 0
    secondary: int = 0
    holiday_days: int = 0
    weekend_days: int = 0
    major_holidays: int = 0


@dataclass(frozen=True)
class Problem:
    """Everything the solver needs; see the module docstring for the rules."""

    members: tuple[str, ...]
    slots: tuple[Slot, ...]
    unavailable: Mapping[str, frozenset[int]] = field(default_factory=_no_entries)
    own_holidays: Mapping[str, Mapping[int, int]] = field(default_factory=_no_entries)
    fixed: Mapping[int, tuple[str, str]] = field(default_factory=_no_entries)
    pinned_primary: Mapping[int, str] = field(default_factory=_no_entries)
    history: Mapping[str, History] = field(default_factory=_no_entries)
    previous: tuple[str, str] | None = None
    major_holidays: Mapping[int, int] = field(default_factory=_no_entries)  # slot -> count, for fairness only
    current: Mapping[int, tuple[str, str]] = field(default_factory=_no_entries)  # slot -> stored pair, tried first


@dataclass(frozen=True)
class Assignment:
    """Who covers one slot."""

    primary: str
    secondary: str


class Infeasible(ValueError):
    """The hard rules cannot all hold; `slots` lists the offending slot indexes."""

    def __init__(self, message: str, slots: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.slots = slots


def weekend_days(slot: Slot) -> int:
    """Saturdays and Sundays among the slot's days."""
    return sum(1 for day in slot.days if day.weekday() >= 5)


def slot_span(slot: Slot) -> str:
    """'2027-03-01 to 2027-03-08': start day to handover day, as people read a shift."""
    last = max(slot.days) if slot.days else slot.start
    return f"{slot.start.isoformat()} to {(last + timedelta(days=1)).isoformat()}"


# --------------------------------------------------------------------------- compiling


@dataclass(frozen=True)
class Instance:
    """A validated `Problem` in member indexes, shared by the solver and `fairness`.

    `base_*` are history plus fixed slots; `pinned_count` counts pinned primaries in free
    slots (they are decided, but are not in `base_p`).
    """

    problem: Problem
    n: int
    avail: tuple[tuple[int, ...], ...]
    avail_set: tuple[frozenset[int], ...]
    fixed: tuple[tuple[int, int] | None, ...]
    pinned: tuple[int, ...]
    holidays: tuple[tuple[int, ...], ...]
    weekend: tuple[int, ...]
    previous: tuple[int, ...]
    free: tuple[int, ...]
    base_p: tuple[int, ...]
    base_s: tuple[int, ...]
    base_h: tuple[int, ...]
    base_w: tuple[int, ...]
    pinned_count: tuple[int, ...]
    counted: tuple[int, ...]  # whom spreads are measured over: see `_counted`

    @property
    def n_slots(self) -> int:
        return len(self.avail)

    @cached_property
    def pair_sequence(self) -> tuple[tuple[int, int], list[frozenset[int]]] | None:
        """`_best_pair_sequence`, computed once: both the back-to-back limit and the
        solver's first guess need it.  None for teams above `_EXACT_PAIRS_UP_TO`."""
        return _best_pair_sequence(self) if self.n <= _EXACT_PAIRS_UP_TO else None


def compile_problem(problem: Problem) -> Instance:
    """Index the problem and check the hard rules; raise `Infeasible` naming every bad slot."""
    names = problem.members
    if len(set(names)) != len(names):
        raise ValueError("member ids must be unique")
    index = {name: k for k, name in enumerate(names)}
    n_slots = len(problem.slots)
    for slot in sorted({*problem.fixed, *problem.pinned_primary}):
        if not 0 <= slot < n_slots:
            raise ValueError(f"slot index {slot} is outside the horizon of {n_slots} slots")
    away = [problem.unavailable.get(name, frozenset()) for name in names]
    avail = tuple(tuple(m for m in range(len(names)) if i not in away[m]) for i in range(n_slots))
    fixed, pinned, reasons = _compile_decisions(problem, index, avail)
    if reasons:
        _raise_infeasible(problem, reasons)
    holidays = _holiday_matrix(problem, index, n_slots)
    weekend = tuple(weekend_days(slot) for slot in problem.slots)
    previous = tuple(index[name] for name in problem.previous or () if name in index)
    return _with_bases(problem, avail, fixed, pinned, holidays, weekend, previous)


def _compile_decisions(
    problem: Problem, index: Mapping[str, int], avail: Sequence[Sequence[int]]
) -> tuple[list[tuple[int, int] | None], list[int], dict[int, list[str]]]:
    """Fixed pairs and pinned primaries as indexes, plus the reasons any slot is impossible."""
    names = problem.members
    reasons: dict[int, list[str]] = {}
    fixed: list[tuple[int, int] | None] = [None] * len(avail)
    pinned = [-1] * len(avail)
    for slot, (first, second) in problem.fixed.items():
        unknown = [name for name in (first, second) if name not in index]
        if unknown:
            reasons.setdefault(slot, []).append(f"fixed shift names {', '.join(unknown)}, not in the rotation")
        elif first == second:
            reasons.setdefault(slot, []).append(f"fixed shift has {first} as both primary and secondary")
        else:
            fixed[slot] = (index[first], index[second])
    for slot, name in problem.pinned_primary.items():
        pair = problem.fixed.get(slot)
        if name not in index:
            reasons.setdefault(slot, []).append(f"pinned primary {name} is not in the rotation")
        elif pair is not None:
            if pair[0] != name:
                reasons.setdefault(slot, []).append(f"{name} is pinned as primary but the fixed shift has {pair[0]}")
        elif index[name] not in avail[slot]:
            reasons.setdefault(slot, []).append(f"{name} is pinned as primary (holiday rotation) but is unavailable")
        else:
            pinned[slot] = index[name]
    for slot, members in enumerate(avail):
        if fixed[slot] is None and slot not in problem.fixed and len(members) < 2:
            who = f"only {names[members[0]]} is available" if members else "nobody is available"
            reasons.setdefault(slot, []).append(f"{who}; a shift needs a primary and a secondary")
    return fixed, pinned, reasons


def _raise_infeasible(problem: Problem, reasons: Mapping[int, list[str]]) -> None:
    """One line per run of consecutive slots with the same reason, dates first."""
    lines: list[str] = []
    run_start = previous = -2
    text = ""
    for slot in sorted(reasons):
        current = "; ".join(reasons[slot])
        if slot == previous + 1 and current == text:
            previous = slot
            continue
        if previous >= 0:
            lines.append(_reason_line(problem, run_start, previous, text))
        run_start = previous = slot
        text = current
    lines.append(_reason_line(problem, run_start, previous, text))
    raise Infeasible("\n".join(lines), tuple(sorted(reasons)))


def _reason_line(problem: Problem, first: int, last: int, text: str) -> str:
    start = problem.slots[first].start.isoformat()
    end = slot_span(problem.slots[last]).split(" to ")[1]
    return f"{start} to {end}: {text}"


def _holiday_matrix(problem: Problem, index: Mapping[str, int], n_slots: int) -> tuple[tuple[int, ...], ...]:
    """Own public-holiday days as [slot][member], unknown members and slots ignored."""
    rows = [[0] * len(index) for _ in range(n_slots)]
    for name, per_slot in problem.own_holidays.items():
        member = index.get(name)
        if member is None:
            continue
        for slot, days in per_slot.items():
            if 0 <= slot < n_slots:
                rows[slot][member] = max(0, days)
    return tuple(tuple(row) for row in rows)


def _counted(avail: Sequence[Sequence[int]], fixed: Sequence[tuple[int, int] | None], n: int) -> tuple[int, ...]:
    """Members the horizon can still give a shift to (available in a free slot).

    Spreads are measured over them: someone who left but still holds a frozen shift, or
    is away the whole horizon, has counts nothing can change, and counting them would make
    every spread look as good as it gets while the others drift apart.  With no free slot
    at all, everyone is counted."""
    can = {m for i, pair in enumerate(fixed) if pair is None for m in avail[i]}
    return tuple(sorted(can)) if can else tuple(range(n))


def _with_bases(
    problem: Problem,
    avail: tuple[tuple[int, ...], ...],
    fixed: Sequence[tuple[int, int] | None],
    pinned: Sequence[int],
    holidays: tuple[tuple[int, ...], ...],
    weekend: tuple[int, ...],
    previous: tuple[int, ...],
) -> Instance:
    """Fold history and fixed slots into per-member starting totals."""
    history = [problem.history.get(name, History()) for name in problem.members]
    base_p = [h.primary for h in history]
    base_s = [h.secondary for h in history]
    base_h = [h.holiday_days for h in history]
    base_w = [h.weekend_days for h in history]
    pinned_count = [0] * len(history)
    for slot, pair in enumerate(fixed):
        if pair is None:
            if pinned[slot] >= 0:
                pinned_count[pinned[slot]] += 1
            continue
        base_p[pair[0]] += 1
        base_s[pair[1]] += 1
        for member in pair:
            base_h[member] += holidays[slot][member]
            base_w[member] += weekend[slot]
    return Instance(
        problem=problem,
        n=len(history),
        avail=avail,
        avail_set=tuple(frozenset(members) for members in avail),
        fixed=tuple(fixed),
        pinned=tuple(pinned),
        holidays=holidays,
        weekend=weekend,
        previous=previous,
        free=tuple(slot for slot, pair in enumerate(fixed) if pair is None),
        counted=_counted(avail, fixed, len(history)),
        base_p=tuple(base_p),
        base_s=tuple(base_s),
        base_h=tuple(base_h),
        base_w=tuple(base_w),
        pinned_count=tuple(pinned_count),
    )


# --------------------------------------------------------------------------- exchange engine


def _never(_position: int, _member: int) -> bool:
    return False


def _ignore(_position: int, _old: int, _new: int) -> None:
    return None


Path = list[tuple[int, int, int]]


class _Role:
    """Holders of one kind of position (a role in a slot), changed along exchange paths.

    A path u -> x1 -> ... -> v hands one position from each member to the next, so only
    the two ends change their count: an augmenting path of the slot-member flow.
    `clash(position, member)` marks a member who holds the partner role there: a step to
    them is a role flip, taken only while `flip_box` (partner-role count bounds) is set and
    keeps both members inside it.  `moved` lets the owner keep derived totals in step.
    """

    def __init__(self, holder: list[int], positions: Sequence[int], cands: Sequence[Sequence[int]], n: int):
        self.holder = holder
        self.cands = cands
        self.positions = tuple(positions)
        # who can hold any position: the others' counts are constants, and levels (the top
        # and bottom that paths even out) are taken among participants only
        self.participants = tuple(sorted({m for position in self.positions for m in cands[position]}))
        self.mine: list[set[int]] = [set() for _ in range(n)]
        self.cnt = [0] * n
        self.recount()
        self.clash: Callable[[int, int], bool] = _never
        self.moved: Callable[[int, int, int], None] = _ignore
        self.partner: _Role | None = None
        self.flip_box: tuple[Sequence[int], Sequence[int]] | None = None

    def recount(self) -> None:
        """Rebuild `mine` and `cnt` from `holder`, in place."""
        for held in self.mine:
            held.clear()
        self.cnt[:] = [0] * len(self.cnt)
        for position in self.positions:
            self.mine[self.holder[position]].add(position)
            self.cnt[self.holder[position]] += 1

    def move(self, position: int, old: int, new: int) -> None:
        self.holder[position] = new
        self.mine[old].remove(position)
        self.mine[new].add(position)
        self.cnt[old] -= 1
        self.cnt[new] += 1
        self.moved(position, old, new)

    def find(
        self, sources: Sequence[int], is_target: Callable[[int], bool], prefer: Callable[[int], int] | None = None
    ) -> Path | None:
        """Breadth-first search from all sources at once to the nearest target member, or,
        with `prefer`, to the reachable target it ranks lowest."""
        best: int | None = None
        seen = bytearray(len(self.cnt))
        flipped = bytearray(len(self.cnt))
        for member in sources:
            seen[member] = 1
        parent: dict[int, tuple[int, int]] = {}
        queue = list(sources)
        for member in queue:
            plain_ok = not flipped[member] or self._may_lose_flip(member)
            for position in sorted(self.mine[member]):
                for other in self.cands[position]:
                    if seen[other]:
                        continue
                    flip = self.clash(position, other)
                    if (flip and not self._flip_ok(member, other, flipped[member])) or (not flip and not plain_ok):
                        continue
                    seen[other] = 1
                    flipped[other] = flip
                    parent[other] = (member, position)
                    if is_target(other) and (not flip or self._may_lose_flip(other)):
                        if prefer is None:
                            return _unwind(parent, other)
                        if best is None or prefer(other) < prefer(best):
                            best = other
                    queue.append(other)
        return None if best is None else _unwind(parent, best)

    def _flip_ok(self, giver: int, taker: int, giver_flipped: int) -> bool:
        """A flip hands the partner role from taker to giver; both must stay in range."""
        if self.partner is None or self.flip_box is None:
            return False
        low, high = self.flip_box
        giver_fits = bool(giver_flipped) or self.partner.cnt[giver] < high[giver]
        return giver_fits and self.partner.cnt[taker] > low[taker]

    def _may_lose_flip(self, member: int) -> bool:
        """A member who took this role by a flip gave up one partner-role position."""
        if self.partner is None or self.flip_box is None:
            return False
        return self.partner.cnt[member] > self.flip_box[0][member]

    def apply(self, path: Path) -> None:
        for position, old, new in path:
            self.move(position, old, new)


def _unwind(parent: Mapping[int, tuple[int, int]], target: int) -> Path:
    path: Path = []
    member = target
    while member in parent:
        giver, position = parent[member]
        path.append((position, giver, member))
        member = giver
    return path


def _decmin(
    role: _Role,
    value: Callable[[int], int],
    step: int,
    lo: Sequence[int],
    hi: Sequence[int],
    prefer: Callable[[int], int] | None = None,
) -> bool:
    """Lower the top, then raise the bottom, by augmenting paths until neither can move.

    A path from u to v changes value(u) by -step and value(v) by +step (all positions weigh
    the same), and is taken only if value(u) - value(v) > step, so the sum of squares drops
    each time.  When it stops, the largest value is as small and the smallest as large as
    the count bounds [lo, hi] allow: the spread is optimal.  Returns whether anything moved.
    """
    moved = False
    while _improve(role, value, step, lo, hi, top=True, prefer=prefer):
        moved = True
    while _improve(role, value, step, lo, hi, top=False, prefer=prefer):
        moved = True
    return moved


def _improve(
    role: _Role,
    value: Callable[[int], int],
    step: int,
    lo: Sequence[int],
    hi: Sequence[int],
    top: bool,
    prefer: Callable[[int], int] | None = None,
) -> bool:
    members = role.participants
    if not members:
        return False
    vals = {m: value(m) for m in members}
    cnt = role.cnt
    if top:
        level = max(vals.values())
        sources = [m for m in members if vals[m] == level and cnt[m] > lo[m]]
        path = (
            role.find(sources, lambda m: vals.get(m, level) < level - step and cnt[m] < hi[m], prefer)
            if sources
            else None
        )
    else:
        level = min(vals.values())
        sources = [m for m in members if vals[m] > level + step and cnt[m] > lo[m]]
        path = role.find(sources, lambda m: vals.get(m, level) == level and cnt[m] < hi[m], prefer) if sources else None
    if path is None:
        return False
    role.apply(path)
    return True


def _fit_box(role: _Role, lo: Sequence[int], hi: Sequence[int]) -> bool:
    """Bring every count into [lo, hi] by augmenting paths; False if that is impossible."""
    n = len(role.cnt)
    cnt = role.cnt
    while True:
        over = [m for m in range(n) if cnt[m] > hi[m]]
        if over:
            path = role.find(over, lambda m: cnt[m] < hi[m])
        else:
            if all(cnt[m] >= lo[m] for m in range(n)):
                return True
            path = role.find([m for m in range(n) if cnt[m] > lo[m]], lambda m: cnt[m] < lo[m])
        if path is None:
            return False
        role.apply(path)


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Targets:
    """Best achievable value of each metric, computed before any schedule is built.

    `primary`/`secondary` are the (lowest, highest) totals at the optimum (the level is
    unique); the other fields are the best spread or total.  See `fairness.limits`.
    """

    primary: tuple[int, int]
    secondary: tuple[int, int]
    weekend_days: int
    holiday_days: int
    back_to_back: int
    conflicts: int

    def limits(self) -> dict[str, int]:
        return {
            "primary": self.primary[1] - self.primary[0],
            "secondary": self.secondary[1] - self.secondary[0],
            "holiday_days": self.holiday_days,
            "weekend_days": self.weekend_days,
            "back_to_back": self.back_to_back,
            "conflicts": self.conflicts,
        }


def compute_targets(inst: Instance) -> Targets:
    """Every metric's limit: exact for the counts, a sound lower bound for the rest."""
    box_p, forced_p = _primary_box(inst)
    box_s = _secondary_box(inst, forced_p, box_p[1])
    return Targets(
        primary=box_p,
        secondary=box_s,
        weekend_days=_weekend_limit(inst, box_p, box_s),
        holiday_days=_holiday_minimum(inst),
        back_to_back=max(_back_to_back_bound(inst), _pair_sequence_back_to_back(inst)),
        conflicts=_fixed_conflicts(inst),
    )


def _pick(pool: Sequence[int], load: Sequence[int]) -> int:
    """The least loaded member of a pool, first listed on ties."""
    return min(pool, key=lambda m: (load[m], m))


def _primary_box(inst: Instance) -> tuple[tuple[int, int], list[int]]:
    """Exact best primary range, and the free primaries each member is forced to take in it.

    Secondaries never block the range: every slot has two available members, so any
    primary choice leaves a secondary.
    """
    base = [inst.base_p[m] + inst.pinned_count[m] for m in range(inst.n)]
    movable = [i for i in inst.free if inst.pinned[i] < 0]
    holder = [-1] * inst.n_slots
    load = list(base)
    for i in movable:
        holder[i] = _pick(inst.avail[i], load)
        load[holder[i]] += 1
    role = _Role(holder, movable, inst.avail, inst.n)
    _decmin(role, lambda m: base[m] + role.cnt[m], 1, [0] * inst.n, [_UNBOUNDED] * inst.n)
    totals = [base[m] + role.cnt[m] for m in range(inst.n)]
    if not totals:
        return (0, 0), []
    low, high = _range(inst, totals)
    stuck = _cannot_shed(inst, role, movable, [high - b for b in base])
    forced = [role.cnt[m] if stuck[m] else max(0, low - base[m]) for m in range(inst.n)]
    return (low, high), forced


def _cannot_shed(inst: Instance, role: _Role, movable: Sequence[int], high: Sequence[int]) -> list[bool]:
    """Members with no exchange path to another member below `high`: they keep their count.

    One backward search from every member with room, over "x holds a slot where y could
    serve" edges; whoever it does not reach through at least one edge can give nothing away.
    """
    could_serve: list[list[int]] = [[] for _ in range(inst.n)]
    for i in movable:
        for m in inst.avail[i]:
            could_serve[m].append(i)
    queued = [role.cnt[m] < high[m] for m in range(inst.n)]
    sheds = [False] * inst.n
    queue = [m for m in range(inst.n) if queued[m]]
    for member in queue:
        for i in could_serve[member]:
            giver = role.holder[i]
            if giver != member and not sheds[giver]:
                sheds[giver] = True
                if not queued[giver]:
                    queued[giver] = True
                    queue.append(giver)
    return [not shed for shed in sheds]


def _secondary_cands(inst: Instance) -> list[tuple[int, ...]]:
    return [tuple(m for m in inst.avail[i] if m != inst.pinned[i]) for i in range(inst.n_slots)]


def _secondary_box(inst: Instance, forced_p: Sequence[int], high_p: int) -> tuple[int, int]:
    """Best secondary spread among schedules whose primaries are at their limit.

    Such a schedule gives member m at least `forced_p[m]` free primaries (what the primary
    range forces: see `_primary_box`), each in a week m could otherwise be secondary in, so
    m's free secondaries are capped.  And in a week with only two people available whoever
    is not primary is secondary, so m has at least (such weeks) - (primaries m may still
    take) secondaries.  Within those bounds the secondary counts are again M-convex and
    `_decmin` is exact.  (The bounds are necessary, not sufficient: the limit is sound, and
    tight unless availability is very scarce.)
    """
    cands = _secondary_cands(inst)
    room = [0] * inst.n
    pairs = [0] * inst.n
    for i in inst.free:
        for m in cands[i]:
            room[m] += 1
            pairs[m] += len(inst.avail[i]) == 2
    cap = [room[m] - forced_p[m] for m in range(inst.n)]
    floor = [max(0, pairs[m] - (high_p - inst.base_p[m] - inst.pinned_count[m])) for m in range(inst.n)]
    holder = [-1] * inst.n_slots
    load = list(inst.base_s)
    used = [0] * inst.n
    for i in inst.free:
        under = [m for m in cands[i] if used[m] < cap[m]]
        holder[i] = _pick(under or cands[i], load)
        load[holder[i]] += 1
        used[holder[i]] += 1
    role = _Role(holder, inst.free, cands, inst.n)
    if not _fit_box(role, floor, cap):
        floor, cap = [0] * inst.n, [_UNBOUNDED] * inst.n
    _decmin(role, lambda m: inst.base_s[m] + role.cnt[m], 1, floor, cap)
    return _range(inst, [inst.base_s[m] + role.cnt[m] for m in range(inst.n)])


def _range(inst: Instance, totals: Sequence[int]) -> tuple[int, int]:
    """Lowest and highest of per-member `totals` over the counted members."""
    counted = [totals[m] for m in inst.counted]
    return (min(counted), max(counted)) if counted else (0, 0)


def _spread(inst: Instance, totals: Sequence[int]) -> int:
    low, high = _range(inst, totals)
    return high - low


def _weekend_limit(inst: Instance, box_p: tuple[int, int], box_s: tuple[int, int]) -> int:
    """Best weekend-day spread given both count limits.

    With every free slot holding the same number w of weekend days (the usual case), a
    member's weekend days are base + w * (weeks on call), and the weeks on call, two
    distinct available members per slot, are M-convex: `_decmin` with step w is exact, the
    ranges that the primary and secondary limits imply kept as count bounds.  Otherwise the
    generic weighted bound is used.
    """
    weights = {inst.weekend[i] for i in inst.free}
    if len(weights) > 1:
        matrix = tuple((inst.weekend[i],) * inst.n for i in range(inst.n_slots))
        return _weighted_bound(inst, matrix, inst.base_w)
    step = weights.pop() if weights else 0
    if step == 0:
        return _spread(inst, inst.base_w)
    role, fixed_units = _on_call_units(inst, step)
    lo, hi = _on_call_box(inst, box_p, box_s)
    if not _fit_box(role, lo, hi):
        role, fixed_units = _on_call_units(inst, step)
        lo, hi = [0] * inst.n, [_UNBOUNDED] * inst.n
    base = [inst.base_w[m] + step * fixed_units[m] for m in range(inst.n)]
    _decmin(role, lambda m: base[m] + step * role.cnt[m], step, lo, hi)
    return _spread(inst, [base[m] + step * role.cnt[m] for m in range(inst.n)])


def _on_call_units(inst: Instance, step: int) -> tuple[_Role, list[int]]:
    """Two positions per free slot (2i, 2i+1) that must hold distinct members.

    A pinned primary holds position 2i outside the role; its count is returned separately.
    """
    holder = [-1] * (2 * inst.n_slots)
    cands: list[tuple[int, ...]] = [()] * (2 * inst.n_slots)
    positions: list[int] = []
    load = [inst.base_w[m] for m in range(inst.n)]
    for i in inst.free:
        pinned = inst.pinned[i]
        if pinned >= 0:
            holder[2 * i] = pinned
            load[pinned] += step
        else:
            cands[2 * i] = inst.avail[i]
            holder[2 * i] = _pick(inst.avail[i], load)
            load[holder[2 * i]] += step
            positions.append(2 * i)
        cands[2 * i + 1] = tuple(m for m in inst.avail[i] if m != pinned)
        holder[2 * i + 1] = _pick([m for m in inst.avail[i] if m != holder[2 * i]], load)
        load[holder[2 * i + 1]] += step
        positions.append(2 * i + 1)
    role = _Role(holder, positions, cands, inst.n)
    role.clash = lambda position, member: holder[position ^ 1] == member
    return role, list(inst.pinned_count)


def _on_call_box(inst: Instance, box_p: tuple[int, int], box_s: tuple[int, int]) -> tuple[list[int], list[int]]:
    """Free weeks on call (pinned ones aside) that the two count ranges allow each member."""
    lo: list[int] = []
    hi: list[int] = []
    counted = set(inst.counted)
    for m in range(inst.n):
        if m not in counted:  # nothing can change their weeks, whatever the ranges say
            lo.append(0)
            hi.append(_UNBOUNDED)
            continue
        base_p = inst.base_p[m] + inst.pinned_count[m]
        lo.append(max(0, box_p[0] - base_p) + max(0, box_s[0] - inst.base_s[m]))
        hi.append(box_p[1] - base_p + box_s[1] - inst.base_s[m])
    return lo, hi


def _holiday_minimum(inst: Instance) -> int:
    """Fewest own-holiday days on call the horizon allows: each free slot's two lightest
    available members (the pinned primary plus the lightest other), fixed slots as they
    are.  Exact per slot; a sound bound overall, since the count ranges may forbid some of
    those picks (then the report says "above" and the gap is at most that interaction).
    """
    total = 0
    for i in range(inst.n_slots):
        row, pair = inst.holidays[i], inst.fixed[i]
        if pair is not None:
            total += row[pair[0]] + row[pair[1]]
            continue
        pinned = inst.pinned[i]
        rest = sorted(row[m] for m in inst.avail[i] if m != pinned)
        total += row[pinned] + rest[0] if pinned >= 0 else rest[0] + rest[1]
    return total


def _weighted_bound(inst: Instance, weight: Sequence[Sequence[int]], base: Sequence[int]) -> int:
    """A sound lower bound on the spread of per-member weighted days on call.

    With T the total over members, max >= ceil(T/n) and max >= any member's forced load,
    min <= floor(T/n) and min <= any member's largest possible load; T itself lies between
    the sums of each slot's two lightest and two heaviest possible members.  Exact for a
    one-country team with no time off up to rounding; loose when calendars differ.
    """
    n = inst.n
    if n == 0:
        return 0
    low, high = list(base), list(base)
    t_min = t_max = sum(base)
    for i in inst.free:
        row, pinned, members = weight[i], inst.pinned[i], inst.avail[i]
        for m in members:
            high[m] += row[m]
        forced = [pinned] if pinned >= 0 else []
        if len(members) == 2:
            forced = list(members)
        for m in forced:
            low[m] += row[m]
        rest = sorted(row[m] for m in members if m != pinned)
        first = [row[pinned]] if pinned >= 0 else rest[:1]
        last = [row[pinned]] if pinned >= 0 else rest[-1:]
        t_min += first[0] + (rest[1] if pinned < 0 else rest[0])
        t_max += last[0] + (rest[-2] if pinned < 0 else rest[-1])
    top = max(-(-t_min // n), max(low))
    bottom = min(t_max // n, min(high))
    return max(0, top - bottom)


_EXACT_PAIRS_UP_TO = 6  # members; beyond, n^4 transitions per slot cost too much


def _pair_sequence_back_to_back(inst: Instance) -> int:
    """The back-to-back limit among schedules whose holiday days are at their minimum (the
    order the solver ranks them in), from the best pair sequence; teams larger than
    `_EXACT_PAIRS_UP_TO` get 0 and rely on the general bound."""
    return 0 if inst.pair_sequence is None else inst.pair_sequence[0][1]


_Trail = tuple[frozenset[int], "_Trail"] | None


def _best_pair_sequence(inst: Instance) -> tuple[tuple[int, int], list[frozenset[int]]]:
    """(own-holiday days, back-to-back pairs), lexicographically least over all sequences of
    on-call pairs, the count rules ignored, and the pair on call in each slot: a shortest
    path over (slot, pair) states.  Use `Instance.pair_sequence`, which caches it."""
    best: dict[frozenset[int], tuple[tuple[int, int], _Trail]] = {frozenset(inst.previous): ((0, 0), None)}
    for i in range(inst.n_slots):
        row = inst.holidays[i]
        step: dict[frozenset[int], tuple[tuple[int, int], _Trail]] = {}
        for pair in _possible_pairs(inst, i):
            holiday = sum(row[m] for m in pair)
            cost, trail = min(
                ((h + holiday, b + len(pair & before)), trail) for before, ((h, b), trail) in best.items()
            )
            step[pair] = (cost, (pair, trail))
        best = step
    if not best:
        return (0, 0), []
    cost, trail = min(best.values(), key=lambda entry: entry[0])
    pairs: list[frozenset[int]] = []
    while trail is not None:
        pairs.append(trail[0])
        trail = trail[1]
    return cost, pairs[::-1]


def _from_current(inst: Instance) -> tuple[list[int], list[int]]:
    """The stored pairs where they still hold; where a member is now away, gone or not the
    pinned primary, whoever is available, not on call in the weeks either side, and has
    the fewest shifts in that role takes the place."""
    index = {name: k for k, name in enumerate(inst.problem.members)}
    primary: list[int] = []
    secondary: list[int] = []
    for i in range(inst.n_slots):
        stored = inst.problem.current.get(i, ("", ""))
        p, s = inst.fixed[i] or (index.get(stored[0], -1), index.get(stored[1], -1))
        if inst.fixed[i] is None:
            if p not in inst.avail_set[i] or inst.pinned[i] not in (-1, p):
                p = inst.pinned[i] if inst.pinned[i] >= 0 else _stand_in(inst, i, primary, (s,))
            if s not in inst.avail_set[i] or s == p:
                s = _stand_in(inst, i, secondary, (p,))
        primary.append(p)
        secondary.append(s)
    return primary, secondary


def _stand_in(inst: Instance, slot: int, role_so_far: Sequence[int], taken: Sequence[int]) -> int:
    """An available member for `slot`, not in `taken`: off call in the neighbouring stored
    weeks first, then fewest shifts in the role so far (the repair stages balance later)."""
    stored = inst.problem.current
    names = inst.problem.members
    near = {name for k in (slot - 1, slot + 1) for name in stored.get(k, ())}
    return min(
        (m for m in inst.avail[slot] if m not in taken),
        key=lambda m: (names[m] in near, role_so_far.count(m), m),
    )


def _from_pairs(inst: Instance, pairs: Sequence[frozenset[int]]) -> tuple[list[int], list[int]]:
    """Roles within given pairs: the pinned member, else whoever has fewer primaries."""
    count = [inst.base_p[m] + inst.pinned_count[m] for m in range(inst.n)]
    primary, secondary = [], []
    for i, pair in enumerate(pairs):
        fixed = inst.fixed[i]
        if fixed is not None:
            first, second = fixed
        else:
            a, b = sorted(pair)
            pinned = inst.pinned[i]
            first = pinned if pinned >= 0 else min((a, b), key=lambda m: (count[m], m))
            second = b if first == a else a
            if pinned < 0:
                count[first] += 1
        primary.append(first)
        secondary.append(second)
    return primary, secondary


def _possible_pairs(inst: Instance, slot: int) -> list[frozenset[int]]:
    pair, pinned = inst.fixed[slot], inst.pinned[slot]
    if pair is not None:
        return [frozenset(pair)]
    members = inst.avail[slot]
    return [
        frozenset((a, b)) for k, a in enumerate(members) for b in members[k + 1 :] if pinned < 0 or pinned in (a, b)
    ]


def _back_to_back_bound(inst: Instance) -> int:
    """Sound minimum of back-to-back pairs over consecutive slots.

    Two slots need 2 + 2 members drawn from the union of who could be on call, so at least
    4 - |union| overlap; members forced into both (fixed, pinned, or the only two
    available) overlap regardless.
    """
    total = 0
    prev_can = set(inst.previous)
    prev_must = set(inst.previous)
    prev_size = len(inst.previous)
    for i in range(inst.n_slots):
        can, must = _could_and_must(inst, i)
        total += max(0, prev_size + 2 - len(prev_can | can), len(prev_must & must))
        prev_can, prev_must, prev_size = can, must, 2
    return total


def _could_and_must(inst: Instance, slot: int) -> tuple[set[int], set[int]]:
    pair = inst.fixed[slot]
    if pair is not None:
        return set(pair), set(pair)
    can = set(inst.avail[slot])
    if len(can) == 2:
        return can, set(can)
    return can, {inst.pinned[slot]} if inst.pinned[slot] >= 0 else set()


def _fixed_conflicts(inst: Instance) -> int:
    """Fixed slots are kept even if their people since booked time off; count those."""
    return sum(
        sum(1 for m in pair if m not in inst.avail_set[i]) for i, pair in enumerate(inst.fixed) if pair is not None
    )


# --------------------------------------------------------------------------- the schedule


class _Schedule:
    """Both roles plus the per-member totals the objectives need, kept in step."""

    def __init__(self, inst: Instance, primary: list[int], secondary: list[int]):
        self.inst = inst
        n = inst.n
        self.base_p = [inst.base_p[m] + inst.pinned_count[m] for m in range(n)]
        self.p = _Role(primary, [i for i in inst.free if inst.pinned[i] < 0], inst.avail, n)
        self.s = _Role(secondary, inst.free, _secondary_cands(inst), n)
        self.p.partner, self.s.partner = self.s, self.p
        self.p.clash = lambda position, member: member == self.s.holder[position]
        self.s.clash = lambda position, member: member == self.p.holder[position]
        self.holiday: list[int] = []
        self.weekend: list[int] = []
        self._recount()
        self.p.moved = self._primary_moved
        self.s.moved = self._secondary_moved

    def restore(self, primary: Sequence[int], secondary: Sequence[int]) -> None:
        """Go back to saved holder lists, in place (callers keep references to the roles)."""
        self.p.holder[:] = primary
        self.s.holder[:] = secondary
        self.p.recount()
        self.s.recount()
        self._recount()

    def _recount(self) -> None:
        inst = self.inst
        self.holiday[:] = inst.base_h
        self.weekend[:] = inst.base_w
        for i in inst.free:
            for m in (self.p.holder[i], self.s.holder[i]):
                self.holiday[m] += inst.holidays[i][m]
                self.weekend[m] += inst.weekend[i]

    def _on_call_moved(self, slot: int, old: int, new: int) -> None:
        row = self.inst.holidays[slot]
        self.holiday[old] -= row[old]
        self.holiday[new] += row[new]
        self.weekend[old] -= self.inst.weekend[slot]
        self.weekend[new] += self.inst.weekend[slot]

    def _primary_moved(self, slot: int, old: int, new: int) -> None:
        """A new primary who was the secondary swaps roles with the old primary."""
        self._on_call_moved(slot, old, new)
        if self.s.holder[slot] == new:
            self.s.move(slot, new, old)

    def _secondary_moved(self, slot: int, old: int, new: int) -> None:
        """Likewise a new secondary who was the primary."""
        self._on_call_moved(slot, old, new)
        if self.p.holder[slot] == new:
            self.p.move(slot, new, old)

    def primary_total(self, m: int) -> int:
        return self.base_p[m] + self.p.cnt[m]

    def secondary_total(self, m: int) -> int:
        return self.inst.base_s[m] + self.s.cnt[m]

    def primary_totals(self) -> list[int]:
        return [self.base_p[m] + self.p.cnt[m] for m in range(self.inst.n)]

    def secondary_totals(self) -> list[int]:
        return [self.inst.base_s[m] + self.s.cnt[m] for m in range(self.inst.n)]

    def on_call(self, slot: int) -> tuple[int, ...]:
        if slot < 0:
            return self.inst.previous
        if slot >= self.inst.n_slots:
            return ()
        return (self.p.holder[slot], self.s.holder[slot])

    def overlap(self, slot: int) -> int:
        """Members on call in both slot - 1 and slot."""
        before = self.on_call(slot - 1)
        return sum(1 for m in self.on_call(slot) if m in before)

    def back_to_back(self) -> int:
        return sum(self.overlap(i) for i in range(self.inst.n_slots))

    def spreads(self) -> dict[str, int]:
        return {
            "primary": _spread(self.inst, self.primary_totals()),
            "secondary": _spread(self.inst, self.secondary_totals()),
            "holiday_days": self.holiday_total(),
            "weekend_days": _spread(self.inst, self.weekend),
            "back_to_back": self.back_to_back(),
        }

    def holiday_total(self) -> int:
        """Own-holiday days on call in the horizon (history excluded)."""
        history = self.inst.problem.history
        return sum(self.holiday) - sum(history.get(name, History()).holiday_days for name in self.inst.problem.members)

    def at_limits(self, targets: Targets) -> bool:
        limits = targets.limits()
        return all(value <= limits[metric] for metric, value in self.spreads().items())

    def assignments(self) -> tuple[Assignment, ...]:
        names = self.inst.problem.members
        return tuple(Assignment(names[p], names[s]) for p, s in zip(self.p.holder, self.s.holder, strict=True))


# --------------------------------------------------------------------------- construction


class _Greedy:
    """Week-by-week first guess; good enough that the exact repair has little to do."""

    def __init__(self, inst: Instance, targets: Targets, rank: Sequence[int]):
        self.inst = inst
        self.targets = targets
        self.rank = rank
        n = inst.n
        self.count = [[inst.base_p[m] + inst.pinned_count[m] for m in range(n)], list(inst.base_s)]
        self.holiday = list(inst.base_h)
        self.weekend = list(inst.base_w)
        self.last = [_NEVER] * n
        for m in inst.previous:
            self.last[m] = -1
        self.remaining = [0] * n
        for i in inst.free:
            for m in inst.avail[i]:
                self.remaining[m] += 1
        self.primary = [-1] * inst.n_slots
        self.secondary = [-1] * inst.n_slots

    def run(self) -> tuple[list[int], list[int]]:
        for i in range(self.inst.n_slots):
            pair = self.inst.fixed[i]
            if pair is not None:
                self.primary[i], self.secondary[i] = pair
            else:
                self._fill(i)
            for m in (self.primary[i], self.secondary[i]):
                self.last[m] = i
        return self.primary, self.secondary

    def _fill(self, i: int) -> None:
        inst = self.inst
        pinned = inst.pinned[i]
        primary = pinned if pinned >= 0 else self._choose(i, PRIMARY, inst.avail[i])
        if pinned < 0:
            self.count[PRIMARY][primary] += 1
        secondary = self._choose(i, SECONDARY, [m for m in inst.avail[i] if m != primary])
        self.count[SECONDARY][secondary] += 1
        self.primary[i], self.secondary[i] = primary, secondary
        for m in (primary, secondary):
            self.holiday[m] += inst.holidays[i][m]
            self.weekend[m] += inst.weekend[i]
        for m in inst.avail[i]:
            self.remaining[m] -= 1

    def _choose(self, i: int, role: int, pool: Sequence[int]) -> int:
        lo_p, hi_p = self.targets.primary
        lo_s, hi_s = self.targets.secondary
        count, high = self.count[role], (hi_p, hi_s)[role]
        primary, secondary = self.count
        neighbours = self._neighbours(i)
        row = self.inst.holidays[i]

        def key(m: int) -> tuple[int, ...]:
            need = max(0, lo_p - primary[m]) + max(0, lo_s - secondary[m])
            return (
                count[m] >= high,
                need < self.remaining[m],
                m in neighbours,
                row[m],
                count[m],
                self.weekend[m],
                self.holiday[m],
                -self.last[m],
                self.rank[m],
            )

        return min(pool, key=key)

    def _neighbours(self, i: int) -> frozenset[int]:
        inst = self.inst
        near: set[int] = set(inst.previous) if i == 0 else {self.primary[i - 1], self.secondary[i - 1]}
        if i + 1 < inst.n_slots:
            after = inst.fixed[i + 1]
            near.update(after or ())
            if inst.pinned[i + 1] >= 0:
                near.add(inst.pinned[i + 1])
        return frozenset(near)


# --------------------------------------------------------------------------- exact repair


def _repair_counts(sch: _Schedule, targets: Targets) -> None:
    """Primaries to their exact limit (any role flip allowed), then secondaries.

    Secondary paths first keep every primary, then may flip roles while primary counts
    stay in range, then try one relaxed step at a time (`_relaxed_step`).
    """
    n = sch.inst.n
    zeros, unbounded = [0] * n, [_UNBOUNDED] * n
    sch.p.flip_box = ([-_UNBOUNDED] * n, unbounded)
    _decmin(sch.p, sch.primary_total, 1, zeros, unbounded)
    sch.p.flip_box = None
    _decmin(sch.s, sch.secondary_total, 1, zeros, unbounded)
    if not _short(sch, targets, "secondary"):
        return
    sch.s.flip_box = _count_box(_range(sch.inst, sch.primary_totals()), sch.base_p)
    _decmin(sch.s, sch.secondary_total, 1, zeros, unbounded)
    sch.s.flip_box = None
    secondary_box = _count_box(targets.secondary, sch.inst.base_s)
    for _ in range(2 * n):
        if not _short(sch, targets, "secondary"):
            return
        if not _relaxed_step(sch, targets, sch.s, sch.secondary_total, 1, (zeros, unbounded), secondary_box):
            return


def _short(sch: _Schedule, targets: Targets, metric: str) -> bool:
    return sch.spreads()[metric] > targets.limits()[metric]


def _relaxed_step(
    sch: _Schedule,
    targets: Targets,
    role: _Role,
    value: Callable[[int], int],
    step: int,
    box: tuple[list[int], list[int]],
    keep: tuple[list[int], list[int]],
) -> bool:
    """One path in `role` whose flips may push the partner's counts one out of range, then
    partner paths (flipping only within `keep`, the bounds on `role`'s counts) to bring
    them back; undone unless every count is still at its limit and `value` improved.

    This reaches moves no single path can, e.g. a secondary taking over from a primary
    whose primary shift goes to a third member.
    """
    partner = sch.s if role is sch.p else sch.p
    partner_value = sch.secondary_total if role is sch.p else sch.primary_total
    saved = (list(sch.p.holder), list(sch.s.holder))
    before = _score(value, sch.inst)
    low, high = _count_box(_range(sch.inst, [partner_value(m) for m in range(sch.inst.n)]), _base(sch, partner))
    role.flip_box = ([x - 1 for x in low], [x + 1 for x in high])
    moved = _improve(role, value, step, *box, top=True) or _improve(role, value, step, *box, top=False)
    role.flip_box = None
    if not moved:
        return False
    partner.flip_box = keep
    _decmin(partner, partner_value, 1, [0] * sch.inst.n, [_UNBOUNDED] * sch.inst.n, prefer=value)
    partner.flip_box = None
    spreads, limits = sch.spreads(), targets.limits()
    counts_ok = all(spreads[name] <= limits[name] for name in ("primary", "secondary"))
    if counts_ok and _score(value, sch.inst) < before:
        return True
    sch.restore(*saved)
    return False


def _base(sch: _Schedule, role: _Role) -> list[int]:
    return sch.base_p if role is sch.p else list(sch.inst.base_s)


def _score(value: Callable[[int], int], inst: Instance) -> tuple[int, int]:
    """Spread first, then the sum of squares (which every improving path lowers)."""
    values = [value(m) for m in range(inst.n)]
    return _spread(inst, values), sum(v * v for v in values)


def _count_box(limits: tuple[int, int], base: Sequence[int]) -> tuple[list[int], list[int]]:
    """Per-member count bounds that keep totals inside [low, high]."""
    low, high = limits
    return [low - b for b in base], [high - b for b in base]


def _balance_on_call(sch: _Schedule, targets: Targets) -> None:
    """Even out weeks on call (so weekend days) without leaving either count range.

    Paths in one role at a time with the other role fixed, so counts stay in range; then
    relaxed steps (`_relaxed_step`) for the cases that need both roles to move.
    """
    inst = sch.inst
    weights = {inst.weekend[i] for i in inst.free}
    uniform = len(weights) == 1 and next(iter(weights)) > 0
    step = next(iter(weights)) if uniform else 1

    def value(m: int) -> int:
        return sch.weekend[m] if uniform else sch.p.cnt[m] + sch.s.cnt[m]

    box_p = _count_box(_range(inst, sch.primary_totals()), sch.base_p)
    box_s = _count_box(_range(inst, sch.secondary_totals()), inst.base_s)
    for _ in range(inst.n + 2):
        moved = _decmin(sch.s, value, step, *box_s)
        if not _decmin(sch.p, value, step, *box_p) and not moved:
            break
    for _ in range(2 * inst.n):
        if not _short(sch, targets, "weekend_days"):
            return
        if not any(
            _relaxed_step(sch, targets, role, value, step, box, box) for role, box in ((sch.s, box_s), (sch.p, box_p))
        ):
            return


# --------------------------------------------------------------------------- local search


Change = tuple[int, int, int]  # slot, role, new member


class _Polish:
    """Count-preserving local search for back-to-back shifts and own-holiday days.

    A move is kept only if (sum of squared weekend days, holiday days, back-to-back pairs,
    sum of squared holiday days), over the members and slots it touches, drops
    lexicographically: fewer people on call on their own holiday first (a UK member covers
    US Thanksgiving), then the unavoidable ones spread evenly, history included.
    """

    def __init__(self, sch: _Schedule, targets: Targets, budget: int):
        self.sch = sch
        self.inst = sch.inst
        self.limits = targets.limits()
        self.budget = budget
        self.search_steps = _SEARCH_STEPS  # for `_rearrange_runs`, whose runs cost unevenly
        self.lo_p, self.hi_p = _count_box(_range(sch.inst, sch.primary_totals()), sch.base_p)
        self.lo_s, self.hi_s = _count_box(_range(sch.inst, sch.secondary_totals()), sch.inst.base_s)
        self.free = frozenset(self.inst.free)
        self.positions = [
            (i, role)
            for i in self.inst.free
            for role in (PRIMARY, SECONDARY)
            if role == SECONDARY or self.inst.pinned[i] < 0
        ]

    def run(self) -> None:
        for _ in range(64):
            improved = False
            if self.budget > 0 and self.sch.holiday_total() > self.limits["holiday_days"]:
                improved |= self._sweep(self._holiday_defects(), "holiday_days")
            if self.budget > 0 and self.sch.back_to_back() > self.limits["back_to_back"]:
                improved |= self._sweep(self._back_to_back_defects(), "back_to_back")
                if not improved:
                    improved = self._rearrange_runs()
            if not improved:
                return

    def _rearrange_runs(self) -> bool:
        """Re-solve runs of consecutive free slots exactly (`_Rearrangement`), four weeks
        long, then longer while that finds nothing.

        Single moves get stuck when every improvement needs several weeks to change at
        once; inside a short run the best order of who is on call is found outright."""
        for width in _RUNS:
            improved = False
            for first in range(self.inst.n_slots - width + 1):
                run = range(first, first + width)
                if self.budget <= 0 or self.sch.back_to_back() <= self.limits["back_to_back"]:
                    return improved
                if not all(i in self.free for i in run) or not self._repeats_around(run):
                    continue
                if self.search_steps <= 0:
                    return improved
                self.budget -= width
                search = _Rearrangement(self.sch, run, min(_RUN_NODES, self.search_steps))
                better = search.best()
                self.search_steps -= search.steps_taken
                if better is not None:
                    self._apply(better)
                    improved = True
            if improved:
                return True
        return False

    def _repeats_around(self, run: range) -> int:
        """Back-to-back pairs inside `run` and at its two edges: none, nothing to gain."""
        return sum(self.sch.overlap(k) for k in range(run[0], min(run[-1] + 2, self.inst.n_slots)))

    def _holder(self, i: int, role: int) -> int:
        return (self.sch.p, self.sch.s)[role].holder[i]

    def _back_to_back_defects(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for i in range(self.inst.n_slots):
            before = self.sch.on_call(i - 1)
            for role in (PRIMARY, SECONDARY):
                member = self._holder(i, role)
                if member in before:
                    if i > 0:
                        out.append((i - 1, before.index(member)))
                    out.append((i, role))
        movable = set(self.positions)
        return [pos for pos in dict.fromkeys(out) if pos in movable]

    def _holiday_defects(self) -> list[tuple[int, int]]:
        """Members on call on their own holiday, most-burdened first."""
        found = [(i, role) for i, role in self.positions if self.inst.holidays[i][self._holder(i, role)] > 0]
        return sorted(found, key=lambda pos: -self.sch.holiday[self._holder(*pos)])

    def _near(self, member: int, slot: int, ignore: int) -> bool:
        """Whether `member` is on call next to `slot`, not counting slot `ignore`."""
        return any(k != ignore and member in self.sch.on_call(k) for k in (slot - 1, slot + 1))

    def _worth(self, goal: str, member: int, i: int, j: int, partner: int) -> bool:
        """Cheap filter before a full trial: could moving member i -> j (partner j -> i) help?"""
        if goal == "back_to_back":
            return not self._near(member, j, i) and not self._near(partner, i, j)
        rows = self.inst.holidays
        return rows[j][member] < rows[i][member]

    def _sweep(self, defects: list[tuple[int, int]], goal: str) -> bool:
        improved = False
        for i, role in defects:
            if self.budget <= 0:
                break
            if self._fix(i, role, goal):
                improved = True
        return improved

    def _fix(self, i: int, role: int, goal: str) -> bool:
        """First improving replacement or swap for the member at (i, role)."""
        member = self._holder(i, role)
        other = self._holder(i, 1 - role)
        for candidate in self.inst.avail[i]:
            if candidate in (member, other):
                continue
            if goal == "back_to_back" and self._near(candidate, i, -5):
                continue
            if goal == "holiday_days" and self.inst.holidays[i][candidate] >= self.inst.holidays[i][member]:
                continue
            if self._try([(i, role, candidate)]):
                return True
        if any(
            self._try([(i, role, self._holder(j, role_j)), (j, role_j, member)])
            for j, role_j in self.positions
            if self._swappable(i, role, j, role_j) and self._worth(goal, member, i, j, self._holder(j, role_j))
        ):
            return True
        return goal == "back_to_back" and any(self._try(self._exchange(i, j)) for j in self._exchangeable(i))

    def _exchangeable(self, i: int) -> list[int]:
        """Unpinned free slots whose pair could trade places with slot i's (both available)."""
        inst, pair = self.inst, set(self.sch.on_call(i))
        if inst.pinned[i] >= 0 or i not in self.free:
            return []
        return [
            j
            for j in inst.free
            if j != i
            and inst.pinned[j] < 0
            and pair <= inst.avail_set[j]
            and set(self.sch.on_call(j)) <= inst.avail_set[i]
            and set(self.sch.on_call(j)) != pair
        ]

    def _exchange(self, i: int, j: int) -> list[Change]:
        """Slots i and j trade their pairs, roles kept: every role count stays as it is, so
        the count rules never block it (single swaps are often stuck in a small team)."""
        (p_i, s_i), (p_j, s_j) = self.sch.on_call(i), self.sch.on_call(j)
        return [(i, PRIMARY, p_j), (i, SECONDARY, s_j), (j, PRIMARY, p_i), (j, SECONDARY, s_i)]

    def _swappable(self, i: int, role: int, j: int, role_j: int) -> bool:
        """Both members available in their new slot and not already on call there."""
        if j == i:
            return False
        member, partner = self._holder(i, role), self._holder(j, role_j)
        return (
            partner != member
            and partner != self._holder(i, 1 - role)
            and member != self._holder(j, 1 - role_j)
            and partner in self.inst.avail_set[i]
            and member in self.inst.avail_set[j]
        )

    def _score(self, slots: Sequence[int], members: Sequence[int]) -> tuple[int, int, int, int]:
        """Only the touched members' holiday days change, so their sum tracks the total."""
        sch = self.sch
        pairs = {k for i in slots for k in (i, i + 1) if k < self.inst.n_slots}
        return (
            sum(sch.weekend[m] ** 2 for m in members),
            sum(sch.holiday[m] for m in members),
            sum(sch.overlap(k) for k in pairs),
            sum(sch.holiday[m] ** 2 for m in members),
        )

    def _try(self, changes: list[Change]) -> bool:
        """Apply, keep if the score drops and counts stay in range, else undo."""
        self.budget -= 1
        slots = sorted({i for i, _, _ in changes})
        members = sorted({m for i, role, new in changes for m in (new, self._holder(i, role))})
        before = self._score(slots, members)
        undo = [(i, role, self._holder(i, role)) for i, role, _ in changes]
        self._apply(changes)
        if self._in_range(members) and self._score(slots, members) < before:
            return True
        self._apply(list(reversed(undo)))
        return False

    def _apply(self, changes: list[Change]) -> None:
        for i, role, new in changes:
            target = (self.sch.p, self.sch.s)[role]
            target.move(i, target.holder[i], new)

    def _in_range(self, members: Sequence[int]) -> bool:
        sch = self.sch
        return all(
            self.lo_p[m] <= sch.p.cnt[m] <= self.hi_p[m] and self.lo_s[m] <= sch.s.cnt[m] <= self.hi_s[m]
            for m in members
        )


_RUNS = (4, 5, 6, 7)  # run lengths re-solved at once; each longer one costs several times more
_RUN_NODES = 20_000  # search steps per run: a team of four never needs more
_SEARCH_STEPS = 200_000  # per polish, all runs together (about half a second)


class _Rearrangement:
    """The best way to reassign a run of slots with every member keeping, within the run,
    their primary count, secondary count and weekend days (so no fairness count moves):
    fewest own-holiday days, then fewest back-to-back pairs (the slots either side
    included).  A depth-first search that drops any partial order already no better than
    the best found (the current order to begin with), so ties keep what is there; the run
    is short, and the counts leave few orders to try."""

    def __init__(self, sch: _Schedule, run: range, steps: int):
        self.sch, self.inst, self.run = sch, sch.inst, run
        self.steps = steps
        self.current = [(sch.p.holder[i], sch.s.holder[i]) for i in run]
        self.primaries = Counter(p for p, _ in self.current)
        self.secondaries = Counter(s for _, s in self.current)
        self.primary_order = sorted(self.primaries)  # the members never change, only what is left
        self.secondary_order = sorted(self.secondaries)
        self.weekend = self._weekend(self.current)
        self.before, self.after = set(sch.on_call(run[0] - 1)), set(sch.on_call(run[-1] + 1))
        self.outside = {m: sch.holiday[m] - h for m, h in self._holidays(self.current).items()}
        self.best_cost = self._cost(self.current)
        self.best_order = self.current
        self.nodes_left = steps  # a big team's run has many orders: keep the best found

    @property
    def steps_taken(self) -> int:
        return self.steps - max(0, self.nodes_left)

    def best(self) -> list[Change] | None:
        """The changes to make, or None when the run is already best."""
        self._search([], self.before, 0, 0)
        if self.best_order == self.current:
            return None
        return [
            (i, role, new[role])
            for i, old, new in zip(self.run, self.current, self.best_order, strict=True)
            for role in (PRIMARY, SECONDARY)
            if new[role] != old[role]  # a pinned primary never moves
        ]

    def _search(self, chosen: list[tuple[int, int]], previous: set[int], holiday: int, repeats: int) -> None:
        self.nodes_left -= 1
        if self.nodes_left < 0 or (holiday, repeats) >= self.best_cost[:2]:
            return
        if len(chosen) == len(self.run):
            if self._weekend(chosen) == self.weekend:
                cost = self._cost(chosen)
                if cost < self.best_cost:
                    self.best_cost, self.best_order = cost, list(chosen)
            return
        i = self.run[len(chosen)]
        row = self.inst.holidays[i]
        for primary, secondary in self._options(i):
            self.primaries[primary] -= 1
            self.secondaries[secondary] -= 1
            chosen.append((primary, secondary))
            added = (primary in previous) + (secondary in previous)
            self._search(chosen, {primary, secondary}, holiday + row[primary] + row[secondary], repeats + added)
            chosen.pop()
            self.primaries[primary] += 1
            self.secondaries[secondary] += 1

    def _options(self, i: int) -> list[tuple[int, int]]:
        pinned, free = self.inst.pinned[i], self.inst.avail_set[i]
        return [
            (primary, secondary)
            for primary in self.primary_order
            if self.primaries[primary] and primary in free and pinned in (-1, primary)
            for secondary in self.secondary_order
            if self.secondaries[secondary] and secondary != primary and secondary in free
        ]

    def _cost(self, order: Sequence[tuple[int, int]]) -> tuple[int, int, int]:
        holidays = self._holidays(order)
        repeats, previous = 0, self.before
        for pair in [*order, tuple(self.after)]:
            repeats += sum(1 for m in pair if m in previous)
            previous = set(pair)
        evenness = sum((self.outside[m] + holidays[m]) ** 2 for m in self.outside)
        return sum(holidays.values()), repeats, evenness

    def _holidays(self, order: Sequence[tuple[int, int]]) -> dict[int, int]:
        totals = dict.fromkeys(sorted(self.primaries.keys() | self.secondaries.keys()), 0)
        for i, pair in zip(self.run, order, strict=True):
            for m in pair:
                totals[m] += self.inst.holidays[i][m]
        return totals

    def _weekend(self, order: Sequence[tuple[int, int]]) -> dict[int, int]:
        totals: Counter[int] = Counter()
        for i, pair in zip(self.run, order, strict=True):
            for m in pair:
                totals[m] += self.inst.weekend[i]
        return dict(totals)


# --------------------------------------------------------------------------- entry point


def solve(problem: Problem) -> tuple[Assignment, ...]:
    """The fair schedule for `problem`, one `Assignment` per slot (fixed slots as given).

    Raises `Infeasible` when the hard rules cannot all hold.
    """
    inst = compile_problem(problem)
    if inst.n_slots == 0:
        return ()
    targets = compute_targets(inst)
    best: tuple[tuple[int, ...], _Schedule] | None = None
    for start in _starts(inst, targets):
        sch = _attempt(inst, targets, start)
        score = _shortfall(sch, targets)
        if best is None or score < best[0]:
            best = (score, sch)
        if not any(score[:-1]):
            break
    if best is None:
        raise RuntimeError("no starting schedule was tried")  # _starts always yields one
    return best[1].assignments()


def _starts(inst: Instance, targets: Targets) -> Iterator[tuple[list[int], list[int]]]:
    """First guesses, best first: the stored schedule, so a regeneration changes only what
    the rules need (none at all when it is still at every limit); for small teams the pair
    sequence with the fewest holiday days and back-to-back shifts; then the greedy under a
    few tie-break orders."""
    if inst.problem.current:
        yield _from_current(inst)
    if inst.pair_sequence is not None:
        yield _from_pairs(inst, inst.pair_sequence[1])
    for rank in _tie_orders(inst.n):
        yield _Greedy(inst, targets, rank).run()


def _tie_orders(n: int) -> list[list[int]]:
    """Tie-break ranks for the greedy start: member order first, then a few reshuffles.

    In a small team the first weeks fix who is paired with whom for the whole horizon
    (the no-back-to-back rhythm repeats them), so other pairings are worth a look.
    """
    identity = list(range(n))
    interleaved = identity[0::2] + identity[1::2]
    orders = [identity, interleaved, identity[::-1], identity[1:] + identity[:1]]
    unique: list[list[int]] = []
    for order in orders:
        rank = [0] * n
        for position, member in enumerate(order):
            rank[member] = position
        if rank not in unique:
            unique.append(rank)
    return unique


def _attempt(inst: Instance, targets: Targets, start: tuple[list[int], list[int]]) -> _Schedule:
    sch = _Schedule(inst, *start)
    for stage in (_repair_counts, _balance_on_call):
        if sch.at_limits(targets):
            break
        stage(sch, targets)
    if not sch.at_limits(targets):
        _Polish(sch, targets, budget=40 * inst.n_slots + 4000).run()
    return sch


def _shortfall(sch: _Schedule, targets: Targets) -> tuple[int, ...]:
    """How far each metric is above its limit, in priority order; last, the holiday sum of squares."""
    spreads, limits = sch.spreads(), targets.limits()
    order = ("primary", "secondary", "weekend_days", "holiday_days", "back_to_back")
    return (*(max(0, spreads[name] - limits[name]) for name in order), sum(h * h for h in sch.holiday))
