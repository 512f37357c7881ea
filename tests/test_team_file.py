"""A bad team file: every problem named at once, one line each (file, entry, field), as a
`CatalogError` and never a traceback; and nothing written.

Most variants are the shipped team.yaml edited as data and dumped, so each breaks one
thing. Dates and clock times are edited as text: what matters is how the loader reads
them unquoted, as people write them.
"""

import copy
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.loader import CatalogError, load_catalog
from tests.conftest import TEAM_FILE
from tests.test_catalog import RUNBOOKS, Edit, dump, sync_file, team_data, write_variant
from tests.test_cli import clean_env, ok, oncall, sqlite_dump
from usecases.runtime import Runtime


def write_text_variant(directory: Path, old: str, new: str, source: Path = TEAM_FILE) -> Path:
    """`source` with the one occurrence of `old` replaced, as someone would type it."""
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = directory / "bad.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    """The lines of the `CatalogError` loading `path` raises, each checked to name the file."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path, runbooks=RUNBOOKS)
    lines = str(caught.value).splitlines()
    assert lines and all(line.startswith(f"{path}: ") for line in lines), lines
    return [line.removeprefix(f"{path}: ") for line in lines]


# --- one problem, one line ---------------------------------------------------------------


def _add_duplicate_member(team: dict[str, Any]) -> None:
    team["members"].append({**team["members"][1], "slack_id": "U0B0B01"})


def _add_duplicate_pipeline(team: dict[str, Any]) -> None:
    team["pipelines"].append({**team["pipelines"][3], "name": "Another daily growth"})


def _add_pipeline_without_run_book(team: dict[str, Any]) -> None:
    team["pipelines"].append({**team["pipelines"][2], "id": "aggregate-retention", "name": "Aggregate Retention"})


def _remove_email(team: dict[str, Any]) -> None:
    del team["members"][1]["email"]


BAD_EDITS: dict[str, tuple[Edit, str]] = {
    "unknown owner": (
        lambda team: team["pipelines"][2].update(secondary="dana2"),
        "teams[0] data-eng: pipelines[2] aggregate-growth: secondary 'dana2' is not a member of team data-eng",
    ),
    "duplicate member": (
        _add_duplicate_member,
        "teams[0] data-eng: members[4] bob: id: duplicate member id 'bob' (already used by teams[0] data-eng: "
        "members[1] bob)",
    ),
    "duplicate pipeline": (
        _add_duplicate_pipeline,
        "teams[0] data-eng: pipelines[5] daily-growth: id: duplicate pipeline id 'daily-growth' (already used by "
        "teams[0] data-eng: pipelines[3] daily-growth)",
    ),
    "no run book": (
        _add_pipeline_without_run_book,
        "teams[0] data-eng: pipelines[5] aggregate-retention: no run book runbooks/aggregate-retention.md",
    ),
    "bad timezone": (
        lambda team: team["members"][1].update(timezone="Mars/Olympus"),
        "teams[0] data-eng: members[1] bob: timezone: unknown timezone 'Mars/Olympus' (use an IANA name like "
        "'Europe/London')",
    ),
    "unknown country": (
        lambda team: team["members"][2].update(country="XX"),
        "teams[0] data-eng: members[2] charlie: country: unknown country code 'XX' (an ISO 3166 code like 'US' or "
        "'GB')",
    ),
    "bad subdivision": (
        lambda team: team["members"][2].update(subdivision="ZZ"),
        "teams[0] data-eng: members[2] charlie: subdivision: 'ZZ' is not a subdivision of US",
    ),
    "missing field": (
        _remove_email,
        "teams[0] data-eng: members[1] bob: email: missing required field",
    ),
    "unknown key": (
        lambda team: team["members"][0].update(slak_id="U0A11CE"),
        "teams[0] data-eng: members[0] alice: slak_id: unknown field",
    ),
    "start not on handoff day": (
        lambda team: team["rotation"].update(start=date(2026, 1, 6)),
        "teams[0] data-eng: rotation: start: 2026-01-06 is a tuesday, but handoffs happen on monday",
    ),
    "time off ends before it starts": (
        lambda team: team["members"][1]["time_off"][0].update(last_day=date(2027, 8, 1)),
        "teams[0] data-eng: members[1] bob: time_off[0]: last_day: 2027-08-01 is before first_day 2027-08-16",
    ),
    "primary is secondary": (
        lambda team: team["pipelines"][0].update(secondary="alice"),
        "teams[0] data-eng: pipelines[0] unit-profit: secondary 'alice' is also the primary (they must differ)",
    ),
    "a clock time with an offset": (
        lambda team: team["rotation"].update(handoff_time="10:00+05:00"),
        "teams[0] data-eng: rotation: handoff_time: '10:00+05:00' is not a time of day: write it as HH:MM",
    ),
}

TEXT_EDITS: dict[str, tuple[str, str, str]] = {  # (old text, new text, the one problem)
    "impossible time off day": (
        "first_day: 2027-08-16",
        "first_day: 2027-04-35",
        "teams[0] data-eng: members[1] bob: time_off[0]: first_day: 2027-04-35 is not a date in 2027: April has 30",
    ),
    "impossible rotation start": (
        "start: 2026-01-05 ",
        "start: 2027-02-30 ",
        "teams[0] data-eng: rotation: start: 2027-02-30 is not a date in 2027: February has 28 days",
    ),
    "impossible day, explicitly tagged": (
        "last_day: 2027-04-09",
        "last_day: !!timestamp 2027-04-31",
        "teams[0] data-eng: members[3] dana: time_off[0]: last_day: 2027-04-31 is not a date in 2027: April has 30",
    ),
    "a timestamp for a day": (
        "start: 2026-01-05 ",
        "start: 2026-01-05 10:00:00 ",
        "teams[0] data-eng: rotation: start: 2026-01-05 10:00:00 is not a date: write days as YYYY-MM-DD",
    ),
    "a number for a clock time": (
        'handoff_time: "10:00"',
        "handoff_time: 600",
        "teams[0] data-eng: rotation: handoff_time: 600 is not a time of day: write it as HH:MM",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_EDITS))
def test_bad_file_is_refused_with_file_entry_and_field(kind: str, tmp_path: Path) -> None:
    edit, expected = BAD_EDITS[kind]
    (line,) = problems(write_variant(tmp_path, edit, name="bad.yaml"))  # no cascade of side effects
    assert line.startswith(expected), line


@pytest.mark.parametrize("kind", list(TEXT_EDITS))
def test_bad_dates_and_times_are_named_not_a_traceback(kind: str, tmp_path: Path) -> None:
    old, new, expected = TEXT_EDITS[kind]
    (line,) = problems(write_text_variant(tmp_path, old, new))
    assert line.startswith(expected), line


@pytest.mark.parametrize("kind", ["unknown owner", "no run book", "bad timezone", "start not on handoff day"])
def test_syncing_a_bad_file_changes_nothing(kind: str, runtime: Runtime, tmp_path: Path) -> None:
    edit, expected = BAD_EDITS[kind]
    path = write_variant(tmp_path, edit, name="bad.yaml")
    before = dump(runtime.engine)
    assert before["shift"] and before["member"]
    with pytest.raises(CatalogError) as caught:
        sync_file(runtime, path)
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert dump(runtime.engine) == before


def test_unquoted_clock_time_is_the_time_written(tmp_path: Path) -> None:
    """YAML 1.1 reads an unquoted 10:00 as the number 600, which pydantic took as 00:10."""
    path = write_text_variant(tmp_path, 'handoff_time: "10:00"', "handoff_time: 10:00")
    assert load_catalog(path, runbooks=RUNBOOKS).teams[0].rotation.handoff_time == time(10, 0)


# --- every problem at once ---------------------------------------------------------------


def _several_problems(team: dict[str, Any]) -> None:
    _add_pipeline_without_run_book(team)
    team["members"][1]["timezone"] = "Mars/Olympus"
    team["members"][2]["country"] = "XX"
    team["pipelines"][2]["secondary"] = "dana2"


SEVERAL_PROBLEMS = [
    "teams[0] data-eng: members[1] bob: timezone: unknown timezone 'Mars/Olympus' (use an IANA name like "
    "'Europe/London')",
    "teams[0] data-eng: members[1] bob: time_off[0]: first_day: 2027-04-35 is not a date in 2027: April has 30 days",
    "teams[0] data-eng: members[2] charlie: country: unknown country code 'XX' (an ISO 3166 code like 'US' or 'GB')",
    "teams[0] data-eng: pipelines[2] aggregate-growth: secondary 'dana2' is not a member of team data-eng",
    "teams[0] data-eng: pipelines[5] aggregate-retention: no run book runbooks/aggregate-retention.md",
]


def write_several_problems(directory: Path) -> Path:
    """A bad timezone, a bad country, an unknown member, an impossible date, no run book."""
    edited = write_variant(directory, _several_problems, name="edited.yaml")
    return write_text_variant(directory, "first_day: 2027-08-16", "first_day: 2027-04-35", source=edited)


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    assert problems(write_several_problems(tmp_path)) == SEVERAL_PROBLEMS


def test_a_wrong_field_hides_no_other_problem_in_its_entry(tmp_path: Path) -> None:
    """Checks comparing two fields still run when a third field of the entry is wrong."""

    def edit(team: dict[str, Any]) -> None:
        team["members"][2].update(email="charlie", subdivision="ZZ")
        team["rotation"].update(shift_days=0, start=date(2026, 1, 6))
        team["members"][1]["time_off"][0].update(reason=["x"], last_day=date(2027, 8, 1))

    assert [line.removeprefix("teams[0] data-eng: ") for line in problems(write_variant(tmp_path, edit))] == [
        "rotation: start: 2026-01-06 is a tuesday, but handoffs happen on monday",
        "rotation: shift_days: Input should be greater than or equal to 1",
        "members[1] bob: time_off[0]: last_day: 2027-08-01 is before first_day 2027-08-16",
        "members[1] bob: time_off[0]: reason: Input should be a valid string",
        "members[2] charlie: email: String should match pattern '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'",
        "members[2] charlie: subdivision: 'ZZ' is not a subdivision of US (one of AK, AL, AR, AS, AZ, CA, CO, CT, "
        "DC, DE, FL, GA …)",
    ]


def test_an_owner_whose_entry_is_wrong_is_still_a_member(tmp_path: Path) -> None:
    """Bob's bad entry is its own problems, not also one per pipeline Bob owns."""
    path = write_variant(tmp_path, lambda team: team["members"][1].update(timezone=5, email="bob"))
    bob = "members[1] bob"
    assert [line.split(": ")[1:3] for line in problems(path)] == [[bob, "email"], [bob, "timezone"]]
    renamed = write_variant(tmp_path, lambda team: team["members"][1].update(id="robert"))
    assert [line.split(": ")[1] for line in problems(renamed)] == [
        "pipelines[0] unit-profit",  # Bob's pipelines, now owned by nobody on the team
        "pipelines[1] aggregate-profit",
    ]


def test_yaml_syntax_error_is_one_line_with_line_and_column(runtime: Runtime, tmp_path: Path) -> None:
    lines = TEAM_FILE.read_text(encoding="utf-8").splitlines()
    broken_at = next(i for i, line in enumerate(lines) if "id: bob" in line)
    lines[broken_at] = lines[broken_at].replace("id: bob", "id: [bob")
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (line,) = problems(path)
    where = line.split(": ", 1)[0]
    assert where.startswith("line ") and ", column " in where, line
    line_number, column = (int(part.split()[-1]) for part in where.split(","))
    # the parser notices the unclosed bracket on that line or a few lines after it
    assert broken_at + 1 <= line_number <= broken_at + 4 and column >= 1, line

    before = dump(runtime.engine)
    with pytest.raises(CatalogError, match="line "):
        sync_file(runtime, path)
    assert dump(runtime.engine) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("teams: !!int abc\n", "line 1, column 8: 'abc' is not a valid int"),
        ("teams: 0b_\n", "line 1, column 8: '0b_' is not a valid int"),
        ("teams: !!int\n", "line 1, column 8: '' is not a valid int"),
        ("teams: [abc]\n", "teams[0]: expected a mapping of fields (key: value lines)"),
        ("", "expected a mapping of fields"),
        ("teams: !!python/name:os.system\n", "line 1, column 8: could not determine a constructor"),
        ("teams:\n  - [1]\x00\n", "line 2, column 8: '\\x00' is not allowed in YAML"),
    ],
)
def test_unreadable_or_misshapen_yaml_names_where(text: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(text, encoding="utf-8")
    (line,) = problems(path)
    assert line.startswith(expected), line


def test_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(path, runbooks=RUNBOOKS)


def test_a_file_that_is_not_utf8_is_a_catalog_error(tmp_path: Path) -> None:
    latin1 = TEAM_FILE.read_bytes().replace(b"name: Alice", b"name: Al\xefce")  # "Alïce" saved as Latin-1
    path = tmp_path / "team.yaml"
    path.write_bytes(latin1)
    offset = latin1.index(b"Al\xef") + 2
    assert problems(path) == [f"not UTF-8 text (byte {offset})"]


# --- as the user runs it ------------------------------------------------------------------


def expected_stderr(path: str) -> str:
    return "error: " + "\n".join(f"{path}: {line}" for line in SEVERAL_PROBLEMS) + "\n"


def test_oncall_sync_names_every_problem_and_writes_nothing(workdir: Path) -> None:
    ok(workdir, "sync")
    before = sqlite_dump(workdir / "oncall.db")
    write_several_problems(workdir)

    done = oncall(workdir, "sync", "bad.yaml")

    assert (done.returncode, done.stdout, done.stderr) == (1, "", expected_stderr("bad.yaml"))
    assert sqlite_dump(workdir / "oncall.db") == before


@pytest.mark.parametrize("command", [("now",), ("serve", "--port", "0")])
def test_first_start_on_a_bad_file_names_every_problem(command: tuple[str, ...], workdir: Path) -> None:
    """`oncall now` and `oncall serve` load the file on first use: same lines, no traceback."""
    write_several_problems(workdir).replace(workdir / "team.yaml")
    env = clean_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret")

    done = oncall(workdir, *command, env=env)

    assert (done.returncode, done.stdout, done.stderr) == (1, "", expected_stderr("team.yaml"))
    assert not (workdir / "oncall.db").exists()  # a failed first run leaves no half-made database


# --- garbage anywhere is a CatalogError ---------------------------------------------------

garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | st.dates().map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the data holding a value: mapping fields and list items, nested."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    return [path for key, child in children for path in [(*prefix, key), *_paths(child, (*prefix, key))]]


typed_garbage = (
    st.text(max_size=30)
    | st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}( [0-9:]{1,8})?", fullmatch=True)  # impossible days too
    | st.from_regex(r"!!(int|float|bool|timestamp|binary|set|str) [a-z0-9_:-]{0,8}", fullmatch=True)
    | st.from_regex(r"[0-9+-][0-9_:.bx]{0,8}", fullmatch=True)  # what YAML 1.1 might read as a number
)
EXAMPLE = team_data()
PLACES = _paths(EXAMPLE)
TEXT_LINES = [i for i, line in enumerate(TEAM_FILE.read_text(encoding="utf-8").splitlines()) if ": " in line]


def _loads_or_refuses(path: Path) -> None:
    try:
        load_catalog(path, runbooks=RUNBOOKS)
    except CatalogError as error:
        lines = str(error).splitlines()
        assert lines and all(line.startswith(f"{path}: ") for line in lines), lines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(PLACES), value=garbage)
def test_any_field_turned_to_garbage_is_a_catalog_error(place: tuple[Any, ...], value: Any, tmp_path: Path) -> None:
    data = copy.deepcopy(EXAMPLE)
    node = data
    for key in place[:-1]:
        node = node[key]
    node[place[-1]] = value
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    _loads_or_refuses(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.sampled_from(TEXT_LINES), typed=typed_garbage)
def test_any_value_typed_as_garbage_is_a_catalog_error(line: int, typed: str, tmp_path: Path) -> None:
    """Raw text after a key, as someone could type it: YAML syntax, tags and dates included."""
    lines = TEAM_FILE.read_text(encoding="utf-8").splitlines()
    key, _, _ = lines[line].partition(": ")
    lines[line] = f"{key}: {typed}"
    path = tmp_path / "team.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _loads_or_refuses(path)


def test_two_teams_cannot_share_an_oncall_group(tmp_path: Path) -> None:
    """Each handoff sets the group to its own pair: two teams would overwrite each other."""
    data = copy.deepcopy(team_data())
    second = copy.deepcopy(data["teams"][0])
    second.update(id="data-science", name="Data Science", channel="C0SCIENCE", oncall_group="@data-oncall")
    for index, member in enumerate(second["members"]):
        member.update(id=f"{member['id']}-ds", slack_id=f"U0DS{index}X")
    second["pipelines"] = []
    data["teams"].append(second)
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert any(
        "teams[1] data-science: oncall_group: duplicate team oncall_group 'data-oncall' (already used by teams[0]"
        in line
        for line in problems(path)
    ), problems(path)
