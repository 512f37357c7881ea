"""The `oncall` console script, run for real as a subprocess in a scratch directory.

The subprocess uses the real clock, so expectations about "now" are computed from the
rotation rules rather than pinned.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from schedules.calendar import Rotation
from storage.db import make_engine
from storage.models import Shift
from tests.conftest import REPO

ONCALL = Path(sys.executable).parent / "oncall"
EXAMPLE = Rotation(date(2026, 1, 5), 7, time(10, 0), "America/New_York")
MEMBERS = ("alice", "bob", "charlie", "dana")  # rotation order in team.yaml
NAMES = {member: member.capitalize() for member in MEMBERS}


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "ONCALL_")) and name not in ("DATABASE_URL", "PORT")
    }
    env.update(extra)
    return env


def oncall(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ONCALL), *args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def ok(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = oncall(cwd, *args, env=env)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stdout


def stored_pairs(workdir: Path) -> dict[datetime, tuple[str, str]]:
    """(primary, secondary) of every shift in the scratch directory's database, by start."""
    engine = make_engine(f"sqlite:///{workdir / 'oncall.db'}")
    try:
        with Session(engine) as session:
            return {shift.start: (shift.primary_id, shift.secondary_id) for shift in session.exec(select(Shift))}
    finally:
        engine.dispose()


def sqlite_dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall() for table in tables}


def test_console_script_is_installed() -> None:
    assert ONCALL.exists(), f"{ONCALL} missing: install the package (pip install -e .)"


def test_now_json_on_a_fresh_directory(workdir: Path) -> None:
    before = datetime.now(UTC)
    payload = json.loads(ok(workdir, "now", "--json"))
    after = datetime.now(UTC)

    assert set(payload) == {"team", "primary", "secondary", "start", "end"}
    assert payload["team"] == "data-eng"
    start, end = datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"])
    assert start.utcoffset() is not None and end.utcoffset() is not None
    assert start <= after and before < end
    for role in ("primary", "secondary"):
        assert set(payload[role]) == {"id", "name", "slack_id"}
        assert re.fullmatch(r"U[A-Z0-9]+", payload[role]["slack_id"])
    index = EXAMPLE.index_at(start)
    assert (start, end) == EXAMPLE.window(index)
    primary, secondary = stored_pairs(workdir)[start]
    assert (payload["primary"]["id"], payload["secondary"]["id"]) == (primary, secondary)
    assert payload["primary"]["name"] == NAMES[primary]
    assert (workdir / "oncall.db").is_file()


def test_schedule_json_has_consecutive_shifts(workdir: Path) -> None:
    before = datetime.now(UTC)
    payload = json.loads(ok(workdir, "schedule", "--weeks", "3", "--json"))
    shifts = payload["shifts"]

    assert payload["team"] == "data-eng"
    assert len(shifts) in (3, 4)
    starts = [datetime.fromisoformat(shift["start"]) for shift in shifts]
    ends = [datetime.fromisoformat(shift["end"]) for shift in shifts]
    assert starts[0] <= before < ends[0] or starts[0] <= datetime.now(UTC) < ends[0]
    assert starts[1:] == ends[:-1]
    stored = stored_pairs(workdir)
    for shift, start in zip(shifts, starts, strict=True):
        assert set(shift) == {"start", "end", "primary", "secondary", "notes"}
        assert (shift["primary"]["id"], shift["secondary"]["id"]) == stored[start]


def test_schedule_table_from_a_date_across_dst(workdir: Path) -> None:
    out = ok(workdir, "schedule", "--from", "2027-03-01", "--weeks", "2")
    lines = out.splitlines()
    assert lines[0] == "Data Engineering (times in America/New_York)"
    assert re.match(r"from\s+until\s+primary\s+secondary", lines[1])
    rows = [line.split("  ") for line in lines[3:]]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    stored = stored_pairs(workdir)
    names = [[NAMES[member] for member in stored[EXAMPLE.window(index)[0]]] for index in (59, 60, 61)]
    assert rows == [
        ["Mon 22 Feb 2027 10:00 EST", "Mon 1 Mar 10:00 EST", *names[0]],
        ["Mon 1 Mar 2027 10:00 EST", "Mon 8 Mar 10:00 EST", *names[1]],
        ["Mon 8 Mar 2027 10:00 EST", "Mon 15 Mar 10:00 EDT", *names[2]],
        ["· Mon 08 Mar: Women's Day (Dana)"],  # Berlin's public holiday, shown under its shift
    ]


def test_next_names_the_following_shift(workdir: Path) -> None:
    now_index = EXAMPLE.index_at(datetime.now(UTC))
    out = ok(workdir, "next")
    after_index = EXAMPLE.index_at(datetime.now(UTC))
    assert out.startswith("Next on call for Data Engineering:")
    stored = stored_pairs(workdir)
    expected = {stored[EXAMPLE.window(now_index + 1)[0]], stored[EXAMPLE.window(after_index + 1)[0]]}
    primary = re.search(r"primary\s+(\w+)", out)
    secondary = re.search(r"secondary\s+(\w+)", out)
    assert primary and secondary
    assert (primary[1].lower(), secondary[1].lower()) in expected
    assert re.search(r"Mon \d+ \w+ \d{4} 10:00 E[SD]T  ->  Mon \d+ \w+ \d{4} 10:00 E[SD]T", out)


def test_who_shows_the_pipeline_owners(workdir: Path) -> None:
    out = ok(workdir, "who", "aggregate-growth")
    assert "Aggregate Growth for Investors (aggregate-growth)" in out
    assert "owners      primary Charlie, secondary Dana" in out
    # words from the name work too
    assert "primary Charlie, secondary Dana" in ok(workdir, "who", "aggregate", "growth")


def test_runbook_typo_suggests_the_pipeline(workdir: Path) -> None:
    done = oncall(workdir, "runbook", "agregate-growht")
    assert done.returncode != 0
    assert "did you mean aggregate-growth?" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_runbook_shows_the_document_with_its_owners(workdir: Path) -> None:
    out = ok(workdir, "runbook", "aggregate-profit")
    assert out.startswith("Aggregate Profit for Investors (aggregate-profit)")
    assert "owners      primary Bob, secondary Charlie" in out
    assert "on call     primary" in out
    assert "# Aggregate Profit for Investors" in out
    assert "## Description" in out
    assert "---\n" not in out.split("## Description")[0].split("\n\n", 1)[1]  # front matter left out


def test_runbook_check_passes_for_the_shipped_run_books(workdir: Path) -> None:
    done = oncall(workdir, "runbook", "--check")
    assert done.returncode == 0, done.stderr
    assert "run books OK (5 pipelines" in done.stdout


def test_sync_is_repeatable(workdir: Path) -> None:
    ok(workdir, "sync")  # the first use loads the file
    assert "nothing changed" in ok(workdir, "sync")
    data = yaml.safe_load((workdir / "team.yaml").read_text(encoding="utf-8"))
    data["teams"][0]["members"][2]["name"] = "Charles"
    (workdir / "team.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert ok(workdir, "sync").strip() == "member charlie: updated name"
    assert "nothing changed" in ok(workdir, "sync")
    assert "primary Charles" in ok(workdir, "who", "aggregate-growth")


def test_sync_of_a_bad_file_explains_and_changes_nothing(workdir: Path) -> None:
    ok(workdir, "sync")
    before = sqlite_dump(workdir / "oncall.db")
    data = yaml.safe_load((workdir / "team.yaml").read_text(encoding="utf-8"))
    del data["teams"][0]["members"][1]["email"]
    (workdir / "bad.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    done = oncall(workdir, "sync", "bad.yaml")

    assert done.returncode != 0
    assert "bad.yaml: teams[0] data-eng: members[1] bob: email: missing required field" in done.stderr
    assert "Traceback" not in done.stderr
    assert sqlite_dump(workdir / "oncall.db") == before


def test_serve_without_a_token_says_what_to_set(workdir: Path) -> None:
    done = oncall(workdir, "serve")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "SLACK_BOT_TOKEN" in lines[0]
    section = re.search(r"README section '([^']+)'", lines[0])
    assert section, lines[0]
    headings = [
        line.lstrip("#").strip() for line in (REPO / "README.md").read_text().splitlines() if line.startswith("#")
    ]
    assert section[1] in headings, f"README has no section {section[1]!r}"


def test_database_url_is_honoured(workdir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = elsewhere / "team.db"
    env = clean_env(DATABASE_URL=f"sqlite:///{database}")

    payload = json.loads(ok(workdir, "now", "--json", env=env))

    assert payload["team"] == "data-eng"
    assert database.is_file()
    assert not (workdir / "oncall.db").exists()
    assert sqlite_dump(database)["team"][0][0] == "data-eng"
    assert "nothing changed" in ok(workdir, "sync", env=env)


def test_schedule_says_where_the_stored_schedule_ends(workdir: Path) -> None:
    far = ok(workdir, "schedule", "--from", f"{datetime.now(UTC).year + 3}-01-01", "--weeks", "2")
    assert "The schedule stops before this for now: `oncall generate" in far
    near = ok(workdir, "schedule", "--weeks", "2")
    assert "The schedule" not in near
    stored_end = max(stored_pairs(workdir))  # the last shift's start; its end is a week later
    straddling = ok(workdir, "schedule", "--from", f"{stored_end.date()}", "--weeks", "3")
    assert re.search(r"The schedule ends \w{3} \d+ \w{3} \d{4} 10:00 E[SD]T for now", straddling)
