"""The team file in the database: sync is idempotent, refuses atomically, and removes
members without rewriting the frozen part of the schedule; and the pipeline search.

Variants of the shipped team.yaml are edited as data and dumped to tmp_path, so each
test changes exactly one thing (`tests/test_team_file.py` has the bad files).
"""

import copy
import dataclasses
import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select

from catalog.loader import CatalogError, load_catalog
from catalog.search import Candidate, SearchResult, normalise, search
from catalog.sync import SyncReport, sync_catalog
from runbooks.document import available_runbooks
from schedules.calendar import Rotation
from schedules.generate import HORIZON_WEEKS
from storage import schema
from storage.db import make_engine, session_scope
from storage.enums import OwnershipOrigin
from storage.models import Member, Ownership, Pipeline, Shift, Team, TimeOff
from tests.conftest import NOW, REPO, TEAM_FILE
from usecases.runtime import Runtime, sync_team_file

Edit = Callable[[dict[str, Any]], None]
RUNBOOKS = frozenset(available_runbooks())  # the shipped run books, as the CLI finds them
Dump = dict[str, list[tuple[Any, ...]]]


# --- helpers -----------------------------------------------------------------------------


def team_data() -> dict[str, Any]:
    """The shipped team file as plain data, ready to be edited."""
    data = yaml.safe_load(TEAM_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write_variant(directory: Path, edit: Edit, name: str = "team.yaml") -> Path:
    """team.yaml with `edit` applied to its first (only) team, written to `directory`."""
    data = copy.deepcopy(team_data())
    edit(data["teams"][0])
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def dump(engine: Engine) -> Dump:
    """Every row of every table, in primary-key order: equal dumps mean nothing changed."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(sa_select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            model.__name__: connection.execute(sa_select(func.count()).select_from(model)).scalar_one()
            for model in (Team, Member, Pipeline, Ownership, TimeOff, Shift)
        }


def sync_file(runtime: Runtime, path: Path) -> SyncReport:
    """`oncall sync PATH`, as the CLI runs it: validate, then load in one transaction."""
    settings = runtime.settings.model_copy(update={"oncall_team_file": path})
    pointed = dataclasses.replace(runtime, settings=settings)
    with session_scope(runtime.engine) as session:
        return sync_team_file(pointed, session)


def drop_dana(team: dict[str, Any]) -> None:
    """Hand Dana's catalog pipelines to others and take her off the team."""
    pipelines = {pipeline["id"]: pipeline for pipeline in team["pipelines"]}
    pipelines["aggregate-growth"]["secondary"] = "alice"
    pipelines["daily-growth"]["primary"] = "bob"
    team["members"] = [member for member in team["members"] if member["id"] != "dana"]


def example_rotation() -> Rotation:
    return Rotation(date(2026, 1, 5), 7, datetime.strptime("10:00", "%H:%M").time(), "America/New_York")


# --- the shipped file and idempotent sync ------------------------------------------------


def test_shipped_team_file_loads() -> None:
    catalog = load_catalog(TEAM_FILE, runbooks=RUNBOOKS)
    (team,) = catalog.teams
    assert team.id == "data-eng"
    assert [member.id for member in team.members] == ["alice", "bob", "charlie", "dana"]
    assert [pipeline.id for pipeline in team.pipelines] == [
        "unit-profit",
        "aggregate-profit",
        "aggregate-growth",
        "daily-growth",
        "aggregate-engagement",
    ]
    growth = team.pipelines[2]
    assert (growth.primary, growth.secondary) == ("charlie", "dana")


def test_sync_twice_changes_nothing_the_second_time(database_url: str) -> None:
    engine = make_engine(database_url)
    schema.upgrade(engine)
    try:
        catalog = load_catalog(TEAM_FILE, runbooks=RUNBOOKS)
        with session_scope(engine) as session:
            first = sync_catalog(session, catalog, NOW)
        assert "team data-eng: added" in first.changes
        assert {f"member {m}: added" for m in ("alice", "bob", "charlie", "dana")} <= set(first.changes)
        after_first = dump(engine)
        rotation = example_rotation()
        expected_shifts = rotation.index_at(NOW + timedelta(weeks=HORIZON_WEEKS)) + 1
        assert counts(engine) == {
            "Team": 1,
            "Member": 4,
            "Pipeline": 5,
            "Ownership": 5,
            "TimeOff": 3,
            "Shift": expected_shifts,
        }

        with session_scope(engine) as session:
            second = sync_catalog(session, load_catalog(TEAM_FILE, runbooks=RUNBOOKS), NOW)
        assert not second.changed, second.changes
        assert second.changes == []
        assert dump(engine) == after_first
    finally:
        engine.dispose()


def test_sync_reports_a_real_change_then_settles(runtime: Runtime, tmp_path: Path) -> None:
    renamed = write_variant(tmp_path, lambda team: team["members"][1].update(name="Robert"))
    report = sync_file(runtime, renamed)
    assert report.changes == ["member bob: updated name"]
    assert not sync_file(runtime, renamed).changed
    with runtime.session() as session:
        bob = session.get(Member, "bob")
        assert bob is not None and bob.name == "Robert"


# --- removing members -------------------------------------------------------------------


def test_removing_a_member_who_owns_nothing(runtime: Runtime, tmp_path: Path) -> None:
    boundary = NOW + timedelta(days=14)  # the team's freeze_days
    before = dump(runtime.engine)
    with runtime.session() as session:
        shifts_before = list(session.exec(select(Shift).order_by(col(Shift.start))).all())
    assert any("dana" in (s.primary_id, s.secondary_id) for s in shifts_before if s.start >= boundary)

    report = sync_file(runtime, write_variant(tmp_path, drop_dana))

    assert "member dana: removed from the rotation" in report.changes
    assert any("schedule regenerated" in change for change in report.changes)
    with runtime.session() as session:
        dana = session.get(Member, "dana")
        assert dana is not None and not dana.active  # kept for history, off the rotation
        shifts_after = list(session.exec(select(Shift).order_by(col(Shift.start))).all())

    frozen_before = [s for s in shifts_before if s.start < boundary]
    frozen_after = [s for s in shifts_after if s.start < boundary]
    assert [s.model_dump() for s in frozen_after] == [s.model_dump() for s in frozen_before]
    assert any("dana" in (s.primary_id, s.secondary_id) for s in frozen_after)  # the current shift

    later = [s for s in shifts_after if s.start >= boundary]
    assert later, "the schedule still reaches the horizon"
    assert all("dana" not in (s.primary_id, s.secondary_id) for s in later)
    assert {s.primary_id for s in later} == {"alice", "bob", "charlie"}
    # same slots as before, still back to back: nothing lost, nothing doubled
    assert [s.start for s in shifts_after] == [s.start for s in shifts_before]
    assert all(a.end == b.start for a, b in itertools.pairwise(shifts_after))
    assert all(s.primary_id != s.secondary_id for s in shifts_after)

    # untouched tables really are untouched; and the removal is itself idempotent
    after = dump(runtime.engine)
    assert after["timeoff"] == before["timeoff"]
    assert not sync_file(runtime, write_variant(tmp_path, drop_dana)).changed
    assert dump(runtime.engine) == after


def test_cannot_remove_a_member_who_still_owns_a_pipeline(runtime: Runtime, tmp_path: Path) -> None:
    with session_scope(runtime.engine) as session:
        session.add(
            Ownership(
                pipeline_id="unit-profit",
                effective_from=date(2026, 10, 1),
                primary_id="dana",
                secondary_id="bob",
                origin=OwnershipOrigin.ROTATION,
                quarter="2026-Q4",
                created_at=NOW,
            )
        )
    before = dump(runtime.engine)

    with pytest.raises(CatalogError) as caught:
        sync_file(runtime, write_variant(tmp_path, drop_dana))

    message = str(caught.value)
    assert "cannot remove member 'dana': still owns unit-profit (primary)" in message
    assert "aggregate-growth" not in message and "daily-growth" not in message  # handed over in the file
    assert dump(runtime.engine) == before


def test_superseded_ownership_does_not_block_removal(runtime: Runtime, tmp_path: Path) -> None:
    """Only the ownership in force today counts, not history the catalog row replaced."""
    with session_scope(runtime.engine) as session:
        session.add(
            Ownership(
                pipeline_id="unit-profit",
                effective_from=date(2025, 10, 1),  # before the catalog row: superseded by it
                primary_id="dana",
                secondary_id="bob",
                origin=OwnershipOrigin.ROTATION,
                quarter="2025-Q4",
                created_at=NOW,
            )
        )
    report = sync_file(runtime, write_variant(tmp_path, drop_dana))
    assert "member dana: removed from the rotation" in report.changes


# --- pipeline search --------------------------------------------------------------------

EXAMPLE = [Candidate(p.id, p.name) for p in load_catalog(TEAM_FILE, runbooks=RUNBOOKS).teams[0].pipelines]
slugs = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)  # catalog.schema.Slug
candidates = st.lists(
    st.builds(Candidate, slugs, st.one_of(st.text(max_size=40), slugs)), max_size=8, unique_by=lambda c: c.id
).map(lambda generated: EXAMPLE + [c for c in generated if c.id not in {e.id for e in EXAMPLE}])


def _well_formed(result: SearchResult, pool: list[Candidate]) -> None:
    filled = [bool(result.match), bool(result.matches), bool(result.suggestions)]
    assert sum(filled) <= 1
    assert len(result.matches) != 1
    assert len(result.suggestions) <= 3
    for candidate in (result.match, *result.matches, *result.suggestions):
        assert candidate is None or candidate in pool


@settings(max_examples=300)
@given(query=st.text(), pool=candidates)
def test_search_never_raises_and_answers_one_way(query: str, pool: list[Candidate]) -> None:
    result = search(query, pool)
    _well_formed(result, pool)
    assert result == search(query, pool)


@given(pool=candidates, data=st.data())
def test_search_finds_every_id_exactly(pool: list[Candidate], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(pool))
    if data.draw(st.booleans()):  # another pipeline, listed first, is *named* like the target's id
        pool = [Candidate(data.draw(slugs.filter(lambda s: s not in {c.id for c in pool})), target.id), *pool]
    decorated = data.draw(st.sampled_from([target.id, target.id.upper(), f"  {target.id} "]))
    assert search(decorated, pool).match == target


@given(pool=candidates, data=st.data())
def test_search_finds_every_name(pool: list[Candidate], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(EXAMPLE))
    result = search(target.name, pool)
    assert result.match == target or target in result.matches


def test_search_is_deterministic_across_processes() -> None:
    """Same answers whatever the hash seed: no set or dict ordering leaks into the result."""
    script = (
        "from pathlib import Path\n"
        "from catalog.loader import load_catalog\n"
        "from catalog.search import Candidate, search\n"
        f"team = load_catalog(Path({str(TEAM_FILE)!r}), runbooks={sorted(RUNBOOKS)!r}).teams[0]\n"
        "pool = [Candidate(p.id, p.name) for p in team.pipelines]\n"
        "for q in ['growth', 'profit', 'agregate-growht', 'investors', 'daly', 'aggregate', 'x', '']:\n"
        "    print(q, search(q, pool))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert "suggestions=" in outputs.pop()


def test_typo_suggests_the_pipeline() -> None:
    result = search("agregate-growht", EXAMPLE)
    assert result.match is None and not result.matches
    assert result.suggestions
    assert result.suggestions[0].id == "aggregate-growth"


def test_one_word_matching_two_pipelines() -> None:
    result = search("growth", EXAMPLE)
    assert result.match is None
    assert [c.id for c in result.matches] == ["aggregate-growth", "daily-growth"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Aggregate Growth for Investors", "aggregate-growth"),
        ("profit investors", "aggregate-profit"),
        ("unit_profit", "unit-profit"),
        ("ENGAGEMENT", "aggregate-engagement"),
    ],
)
def test_words_and_names_find_one_pipeline(query: str, expected: str) -> None:
    assert search(query, EXAMPLE).match == next(c for c in EXAMPLE if c.id == expected)


@pytest.mark.parametrize("query", ["", "   ", "---", "zzzzqqq"])
def test_nothing_close_gives_nothing(query: str) -> None:
    assert search(query, EXAMPLE) == SearchResult()


def test_normalise_folds_separators() -> None:
    assert normalise("  Aggregate  Growth_for/Investors. ") == "aggregate-growth-for-investors"
