"""Finding a pipeline from what someone typed at 3 a.m.

Pure functions over (id, name) pairs so the matching rules can be fuzzed on their own.
"""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s_/.]+")
SUGGESTION_CUTOFF = 0.6  # difflib ratio below which a name is not worth suggesting
SUGGESTION_BAND = 0.08  # suggest the runners-up only when nearly as close as the best


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str


@dataclass(frozen=True)
class SearchResult:
    """Exactly one of: a single `match`; several `matches`; or `suggestions` (maybe none)."""

    match: Candidate | None = None
    matches: tuple[Candidate, ...] = ()
    suggestions: tuple[Candidate, ...] = ()


def normalise(text: str) -> str:
    """Lower case, separators folded to '-' ("Aggregate Growth" -> "aggregate-growth")."""
    return _SEPARATORS.sub("-", text.strip().lower()).strip("-")


def search(query: str, candidates: Sequence[Candidate]) -> SearchResult:
    """Exact id, then exact name, then every candidate containing all the words, then typos."""
    wanted = normalise(query)
    if not wanted:
        return SearchResult()
    typed = query.strip().lower()  # ids are matched as typed too: normalise() strips a trailing '-'
    exact = (
        [c for c in candidates if c.id == typed]  # 'a-' typed finds id 'a-' before id 'a'
        or [c for c in candidates if c.id == wanted]
        or [c for c in candidates if normalise(c.name) == wanted]
    )
    if exact:
        return SearchResult(match=exact[0])
    words = [word for word in wanted.split("-") if word]
    containing = tuple(c for c in candidates if all(word in _searchable(c) for word in words))
    if len(containing) == 1:
        return SearchResult(match=containing[0])
    if containing:
        return SearchResult(matches=containing)
    return SearchResult(suggestions=_close(wanted, candidates))


def _searchable(candidate: Candidate) -> str:
    return f"{candidate.id} {normalise(candidate.name)}"


def _close(wanted: str, candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """Typos: the candidates nearly as close as the closest one, best first."""
    scored = sorted(
        ((max(_similarity(wanted, c.id), _similarity(wanted, normalise(c.name))), c) for c in candidates),
        key=lambda pair: -pair[0],
    )
    if not scored or scored[0][0] < SUGGESTION_CUTOFF:
        return ()
    best = scored[0][0]
    return tuple(c for score, c in scored if score >= max(SUGGESTION_CUTOFF, best - SUGGESTION_BAND))[:3]


def _similarity(left: str, right: str) -> float:
    return difflib.SequenceMatcher(None, left, right).ratio()
