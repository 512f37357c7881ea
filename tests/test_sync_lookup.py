"""Members written without a Slack id (left out, empty, "TODO", "U0000000") are found from
their e-mail on `oncall sync` (`users.lookupByEmail`) and the id stored; one nobody can
find is stored as the placeholder with a warning naming the member, entry and field, and
the sync still succeeds. Run in-process on the pinned clock against the fake Slack."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

import cli.main  # noqa: F401  (registers every command on `app`)
from catalog.loader import CatalogError, load_catalog
from catalog.schema import PLACEHOLDER_SLACK_ID
from cli.common import Injected, app
from core.clock import fixed_clock
from storage.db import make_engine
from storage.models import Member
from tests.conftest import NOW
from tests.slack_fake import BOT_TOKEN, FakeSlack
from tests.test_catalog import RUNBOOKS, write_variant

EMAILS = {"alice@example.com": "U0A11CE", "bob@example.com": "U0B0B00", "charlie@example.com": "U0C4A12"}
Run = Callable[..., tuple[int, str, str]]


def without_ids(team: dict[str, Any]) -> None:
    """Each way of writing "look this member up": left out, "TODO", the placeholder, empty."""
    alice, bob, charlie, dana = team["members"]
    del alice["slack_id"]
    bob["slack_id"], charlie["slack_id"], dana["slack_id"] = "TODO", PLACEHOLDER_SLACK_ID, ""


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    return write_variant(tmp_path, without_ids)


@pytest.fixture
def run(database_url: str, team_file: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Run:
    """An `oncall` command in-process: (exit code, stdout, stderr); `token=False` runs it
    without SLACK_BOT_TOKEN."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ONCALL_TEAM_FILE", str(team_file))
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)

    def invoke(*args: str, token: bool = True) -> tuple[int, str, str]:
        if token:
            monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        else:
            monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
        result = CliRunner().invoke(app, list(args), obj=Injected(fixed_clock(NOW)))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke


def stored_ids(database_url: str) -> dict[str, str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return {member.id: member.slack_id for member in session.exec(select(Member))}
    finally:
        engine.dispose()


def test_every_placeholder_spelling_loads_as_no_id(team_file: Path) -> None:
    catalog = load_catalog(team_file, runbooks=RUNBOOKS)
    assert [member.slack_id for member in catalog.teams[0].members] == [None] * 4  # and no "duplicate slack_id"


def test_an_id_that_is_no_placeholder_is_still_refused(tmp_path: Path) -> None:
    bad = write_variant(tmp_path, lambda team: team["members"][1].update(slack_id="bob"))
    with pytest.raises(CatalogError) as caught:
        load_catalog(bad, runbooks=RUNBOOKS)
    assert "members[1] bob: slack_id: 'bob' is not a Slack user id" in str(caught.value)


def test_sync_finds_ids_from_emails_and_stores_them(
    run: Run, slack: FakeSlack, database_url: str, team_file: Path
) -> None:
    slack.workspace.emails.update(EMAILS)
    code, out, err = run("sync")
    assert code == 0, err
    assert stored_ids(database_url) == {
        "alice": "U0A11CE",
        "bob": "U0B0B00",
        "charlie": "U0C4A12",
        "dana": PLACEHOLDER_SLACK_ID,
    }
    assert "member alice: slack_id U0A11CE found from alice@example.com" in out.splitlines()
    assert err.splitlines() == [
        f"warning: {team_file}: teams[0] data-eng: members[3] dana: slack_id: no active Slack user has the e-mail"
        " dana@example.com: put the address they sign in to Slack with in `email`, or put the member's id in"
        " `slack_id` (Slack profile → ⋮ → Copy member ID), then `oncall sync`"
    ]
    asked = len(slack.calls_to("users.lookupByEmail"))
    assert asked == 4

    code, out, err = run("sync")  # ids found before are kept: only dana is asked about again
    assert (code, out) == (0, "Already up to date: nothing changed.\n") and "members[3] dana" in err
    assert [call.body["email"] for call in slack.calls_to("users.lookupByEmail")[asked:]] == ["dana@example.com"]

    slack.workspace.emails["dana@example.com"] = "U0DA7A0"
    code, out, _ = run("sync")
    assert code == 0 and "member dana: slack_id U0DA7A0 found from dana@example.com" in out
    assert stored_ids(database_url)["dana"] == "U0DA7A0"


def test_without_a_token_sync_warns_and_succeeds(run: Run, slack: FakeSlack, database_url: str) -> None:
    code, out, err = run("sync", token=False)
    assert code == 0 and out == "Already up to date: nothing changed.\n"  # the first load wrote them
    warnings = err.splitlines()
    assert [line.split(": ")[3] for line in warnings] == [
        "members[0] alice",
        "members[1] bob",
        "members[2] charlie",
        "members[3] dana",
    ]
    assert all("set SLACK_BOT_TOKEN and run `oncall sync` again" in line for line in warnings)
    assert set(stored_ids(database_url).values()) == {PLACEHOLDER_SLACK_ID}
    assert slack.calls == []


def test_a_missing_email_scope_is_asked_once_and_named(run: Run, slack: FakeSlack, database_url: str) -> None:
    slack.workspace.emails.update(EMAILS)
    slack.workspace.scopes.discard("users:read.email")
    code, _, err = run("sync")
    assert code == 0 and len(err.splitlines()) == 4
    assert all("the app lacks the scope users:read.email" in line for line in err.splitlines())
    assert len(slack.calls_to("users.lookupByEmail")) == 1
    assert set(stored_ids(database_url).values()) == {PLACEHOLDER_SLACK_ID}


def test_a_refused_token_never_breaks_sync(run: Run, slack: FakeSlack) -> None:
    slack.set_response("users.lookupByEmail", {"ok": False, "error": "invalid_auth"})
    code, _, err = run("sync")
    assert code == 0 and "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err


def test_the_doctor_reports_members_without_an_id(run: Run, slack: FakeSlack) -> None:
    slack.set_response("conversations.list", {"ok": True, "channels": []})
    run("sync", token=False)
    slack.workspace.emails["dana@example.com"] = "U0DA7A0"
    code, out, _ = run("doctor")
    assert code == 1
    members = [line for line in out.splitlines() if ": member " in line]
    assert members[0] == (
        "error: member alice (Alice, team data-eng): no Slack id: `slack_id` of member alice in team.yaml is"
        " missing or a placeholder, and no active Slack user has the e-mail alice@example.com"
        " -> put the e-mail they use in Slack in `email`, or their member id (profile → ⋮ → Copy member ID)"
        " in `slack_id`, then `oncall sync`"
    )
    assert members[3] == (
        "error: member dana (Dana, team data-eng): no Slack id: `slack_id` of member dana in team.yaml is"
        " missing or a placeholder; dana@example.com is U0DA7A0 -> run `oncall sync` with SLACK_BOT_TOKEN set"
    )
    assert slack.calls_to("users.info") == []  # nothing to ask about a placeholder
