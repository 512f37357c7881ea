"""The terminal front end in-process on a pinned clock (Typer's CliRunner), so answers that
depend on "now" are exact: the clock reaches the CLI the way it reaches the bot."""

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

import cli.main  # noqa: F401  (registers every command on `app`)
from cli.common import Injected, app
from core.clock import fixed_clock
from tests.conftest import NOW, TEAM_FILE

Invoke = Callable[..., tuple[int, str, BaseException | None]]


@pytest.fixture
def invoke(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ONCALL_TEAM_FILE", str(TEAM_FILE))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, BaseException | None]:
        result = runner.invoke(app, list(args), obj=Injected(fixed_clock(NOW)))
        return result.exit_code, result.output, result.exception

    return run


def test_now_is_read_on_the_injected_clock(invoke: Invoke) -> None:
    code, output, _ = invoke("now", "--json")
    assert code == 0
    shift = json.loads(output)
    assert (shift["primary"]["id"], shift["secondary"]["id"]) == ("dana", "alice")  # Tue 1 Dec 2026, 12:00 UTC
    assert shift["start"].startswith("2026-11-30T15:00")


def test_a_booking_is_judged_against_the_injected_day(invoke: Invoke) -> None:
    """2 Dec 2026 is tomorrow on the pinned clock (and long over on the real one)."""
    code, output, error = invoke("away", "bob", "2026-12-02")
    assert code == 0, (output, error)
    assert "Recorded #" in output and "bob away 2026-12-02 to 2026-12-02" in output
    code, output, error = invoke("away", "bob", "2026-11-30")
    assert code == 1 and "already over (today is 2026-12-01" in str(error)
    code, output, _ = invoke("audit", "--json")
    booked = [entry for entry in json.loads(output)["entries"] if entry["action"] == "time off booked"]
    assert [entry["at"] for entry in booked] == [NOW.isoformat()]
