"""`oncall doctor` against the fake Slack: each thing a real workspace gets wrong is one line
naming the subject, the problem and the fix, never a traceback; errors exit 1, a refused
or missing token exits 2; `oncall serve` logs the same problems once at start.

The real console script (`oncall`, a subprocess) covers the exit codes and serve; the
rest run in-process through Typer's CliRunner, which is faster and shows the same lines.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cli.main  # noqa: F401  (registers every command on `app`)
from bot import doctor
from bot.announcing import plain_client
from cli.common import Injected, app
from core.clock import fixed_clock
from tests.conftest import NOW, REPO, TEAM_FILE
from tests.slack_fake import BOT_TOKEN, FakeSlack, RecordedCall
from tests.test_catalog import write_variant
from tests.test_cli import clean_env, oncall
from tests.test_serve import _environment, serving
from usecases.runtime import Runtime

ALERT_CHANNELS = {"alerts-profit": "C0PROFIT", "alerts-growth": "C0GROWTH", "alerts-engagement": "C0ENGAGE"}
Doctor = Callable[..., tuple[int, list[str]]]


def list_channels(extra: dict[str, str] | None = None) -> Callable[[RecordedCall], dict[str, Any]]:
    """conversations.list as Slack pages it: one channel per page, then a cursor."""
    channels = [
        {"id": cid, "name": name, "is_private": False} for name, cid in (ALERT_CHANNELS | (extra or {})).items()
    ]

    def answer(call: RecordedCall) -> dict[str, Any]:
        page = int(call.body.get("cursor") or 0)
        more = {"next_cursor": str(page + 1)} if page + 1 < len(channels) else {"next_cursor": ""}
        return {"ok": True, "channels": channels[page : page + 1], "response_metadata": more}

    return answer


@pytest.fixture
def healthy(slack: FakeSlack) -> FakeSlack:
    """The example team's workspace with every alert channel findable by name."""
    slack.set_response("conversations.list", list_channels())
    slack.channel_names.update({cid: name for name, cid in ALERT_CHANNELS.items()} | {"C0DATAENG": "data-eng"})
    return slack


@pytest.fixture
def run_doctor(database_url: str, healthy: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Doctor:
    """`oncall doctor` in-process: (exit code, output lines). With `team_file`, that file
    is synced first (the doctor checks what the database holds, as the bot uses it)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", healthy.api_url)
    monkeypatch.setenv("ONCALL_TEAM_FILE", str(TEAM_FILE))

    def run(team_file: Path | None = None) -> tuple[int, list[str]]:
        if team_file is not None:
            synced = CliRunner().invoke(app, ["sync", str(team_file)], obj=Injected(fixed_clock(NOW)))
            assert synced.exit_code == 0, synced.output
        result = CliRunner().invoke(app, ["doctor"], obj=Injected(fixed_clock(NOW)))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result.exit_code, result.output.splitlines()

    return run


def env_for(slack: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    return clean_env(SLACK_API_URL=slack.api_url, DATABASE_URL=database_url, **extra)


def test_a_healthy_workspace_passes(healthy: FakeSlack, database_url: str, workdir: Path) -> None:
    done = oncall(workdir, "doctor", env=env_for(healthy, database_url, SLACK_BOT_TOKEN=BOT_TOKEN))
    assert (done.returncode, done.stdout, done.stderr) == (0, "All checks passed\n", "")
    assert len(healthy.calls_to("conversations.list")) == 3  # every page, once
    checked = {call.body["channel"] for call in healthy.calls_to("conversations.info")}
    assert checked == {"C0DATAENG", *ALERT_CHANNELS.values()}
    assert {call.body["user"] for call in healthy.calls_to("users.info")} == {
        "U0A11CE",
        "U0B0B00",
        "U0C4A12",
        "U0DA7A0",
    }
    assert healthy.last("usergroups.list").status == 200
    healthy.assert_no_leak(BOT_TOKEN)


def test_the_manifest_asks_for_every_scope_the_doctor_checks() -> None:
    """The doctor's fix for a missing scope is "reinstall from slack-manifest.yaml"."""
    manifest = yaml.safe_load((REPO / "slack-manifest.yaml").read_text(encoding="utf-8"))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(doctor.REQUIRED_SCOPES)


def test_a_missing_scope_is_named_with_the_feature_that_needs_it(healthy: FakeSlack, run_doctor: Doctor) -> None:
    healthy.workspace.scopes -= {"im:write", "channels:history"}
    code, lines = run_doctor()
    assert code == 1
    assert lines == [
        "error: scope im:write: not granted; needed for conversations.open: the handoff and reminder DMs"
        " -> add it under OAuth & Permissions → Bot Token Scopes (all are in slack-manifest.yaml), then reinstall",
        "warning: scope channels:history: not granted; needed for the outbox's look for an earlier copy before a"
        " retried post (without it a retry may post twice), in public channels"
        " -> add it under OAuth & Permissions → Bot Token Scopes (all are in slack-manifest.yaml), then reinstall",
        "2 problems",
    ]


def test_the_broader_channels_manage_grants_the_topic(healthy: FakeSlack, run_doctor: Doctor) -> None:
    healthy.workspace.scopes = (healthy.workspace.scopes - {"channels:write.topic"}) | {"channels:manage"}
    assert run_doctor() == (0, ["All checks passed"])
    healthy.workspace.scopes.discard("channels:manage")
    code, lines = run_doctor()
    assert code == 1 and lines[0].startswith("error: scope channels:write.topic: not granted; needed for")


def test_user_group_scopes_matter_only_with_an_oncall_group(
    healthy: FakeSlack, run_doctor: Doctor, tmp_path: Path
) -> None:
    healthy.workspace.scopes -= {"usergroups:read", "usergroups:write"}
    code, lines = run_doctor()
    assert code == 1 and [line.split(":")[1] for line in lines[:-1]] == [" scope usergroups"] * 2
    without_group = write_variant(tmp_path, lambda team: team.pop("oncall_group"))
    assert run_doctor(without_group) == (0, ["All checks passed"])


@pytest.mark.parametrize("refusal", ["not_in_channel", "channel_not_found"])
def test_the_bot_outside_the_team_channel_is_told_to_invite_it(
    healthy: FakeSlack, run_doctor: Doctor, refusal: str
) -> None:
    healthy.workspace.channel_errors["C0DATAENG"] = refusal
    code, lines = run_doctor()
    assert code == 1 and len(lines) == 2 and lines[1] == "1 problem"
    assert lines[0].startswith("error: channel C0DATAENG (team data-eng's channel): ")
    assert "invite the bot: /invite @oncall in " in lines[0]


def test_an_alert_channel_the_bot_is_not_in_is_a_warning(healthy: FakeSlack, run_doctor: Doctor) -> None:
    healthy.workspace.channel_errors["C0PROFIT"] = "not_in_channel"
    code, lines = run_doctor()
    assert code == 0
    assert lines == [
        "warning: channel #alerts-profit (alerts of unit-profit, aggregate-profit): the bot is not a member"
        " -> invite the bot: /invite @oncall in #alerts-profit",
        "1 problem",
    ]


def test_a_channel_name_nobody_can_find_asks_for_the_id(slack: FakeSlack, run_doctor: Doctor) -> None:
    slack.set_response("conversations.list", {"ok": True, "channels": []})
    code, lines = run_doctor()
    assert code == 0 and lines[-1] == "3 problems"
    assert lines[0] == (
        "warning: channel #alerts-profit (alerts of unit-profit, aggregate-profit): cannot check #alerts-profit:"
        " no channel of that name is visible to the bot"
        " -> use the channel id in team.yaml (channel details → Copy channel ID); /invite @oncall in #alerts-profit"
    )


def test_a_team_channel_written_as_a_name_needs_its_id(healthy: FakeSlack, run_doctor: Doctor, tmp_path: Path) -> None:
    healthy.set_response("conversations.list", list_channels({"data-oncall": "C0TEAM"}))
    code, lines = run_doctor(write_variant(tmp_path, lambda team: team.update(channel="#data-oncall")))
    assert code == 1
    assert lines == [
        "error: channel #data-oncall (team data-eng's channel): a name: the topic and the outbox's history check"
        " need the id -> write `channel: C0TEAM` in team.yaml, then `oncall sync`",
        "1 problem",
    ]


def test_a_member_id_slack_does_not_know_names_the_member(healthy: FakeSlack, run_doctor: Doctor) -> None:
    healthy.workspace.missing_users.add("U0C4A12")
    healthy.workspace.user_errors["U0DA7A0"] = "account_inactive"
    code, lines = run_doctor()
    assert code == 1
    assert lines == [
        "error: member charlie (Charlie, team data-eng): U0C4A12 is no user of this workspace"
        " -> fix `slack_id` of member charlie in team.yaml (profile → ⋮ → Copy member ID), then `oncall sync`",
        "error: member dana (Dana, team data-eng): the Slack account U0DA7A0 is deactivated"
        " -> update team.yaml (their new id, or remove them), then `oncall sync`",
        "2 problems",
    ]


@pytest.mark.parametrize(
    ("refusal", "fix"),
    [
        ("paid_teams_only", "user groups need a paid Slack plan: upgrade, or remove `oncall_group` from team.yaml"),
        ("permission_denied", "workspace admins limit who may manage user groups"),
    ],
)
def test_user_groups_slack_refuses_are_a_finding(
    healthy: FakeSlack, run_doctor: Doctor, refusal: str, fix: str
) -> None:
    healthy.workspace.usergroups_refusal = refusal
    code, lines = run_doctor()
    assert code == 1 and lines[1] == "1 problem"
    assert lines[0].startswith(f"error: user group data-oncall (team data-eng): cannot be managed ({refusal}) -> {fix}")


def test_slack_failing_mid_check_is_a_warning_not_a_traceback(healthy: FakeSlack, run_doctor: Doctor) -> None:
    healthy.fail_next("users.info")  # 429, and this client never retries
    healthy.fail_next("conversations.info", status=0)  # the connection drops
    code, lines = run_doctor()
    assert code == 0 and lines[-1] == "2 problems"
    assert lines[0].startswith("warning: channel C0DATAENG (team data-eng's channel): could not check")
    assert "connection error" in lines[0] and "run `oncall doctor` again" in lines[0]
    assert lines[1].startswith("warning: members: could not check (users.info: ratelimited) -> run `oncall doctor`")
    assert len(healthy.calls_to("users.info")) == 1  # one refusal stands for every member


def test_a_token_slack_refuses_is_one_line_and_exit_2(slack: FakeSlack, database_url: str, workdir: Path) -> None:
    slack.set_response("auth.test", {"ok": False, "error": "invalid_auth"})
    done = oncall(workdir, "doctor", env=env_for(slack, database_url, SLACK_BOT_TOKEN=BOT_TOKEN))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: SLACK_BOT_TOKEN was refused by Slack (auth.test: invalid_auth): "
        "see the README section 'Create the Slack app'"
    ]
    assert [call.method for call in slack.calls] == ["auth.test"]


def test_a_missing_token_is_one_line_and_exit_2(slack: FakeSlack, database_url: str, workdir: Path) -> None:
    done = oncall(workdir, "doctor", env=env_for(slack, database_url))
    assert done.returncode == 2 and done.stderr.startswith("error: SLACK_BOT_TOKEN is not set")
    assert len(done.stderr.splitlines()) == 1 and slack.calls == []


def test_check_workspace_reports_a_refused_token_as_its_only_finding(runtime: Runtime, slack: FakeSlack) -> None:
    slack.set_response("auth.test", {"ok": False, "error": "token_revoked"})
    client = plain_client(runtime.settings.model_copy(update={"slack_api_url": slack.api_url}), BOT_TOKEN)
    with runtime.session() as session:
        findings = doctor.check_workspace(client, session)
    assert [(f.subject, f.problem, f.severity) for f in findings] == [
        ("SLACK_BOT_TOKEN", "Slack refuses the token (auth.test: token_revoked)", doctor.Severity.ERROR)
    ]


def test_serve_logs_each_problem_once_at_start(slack: FakeSlack, database_url: str) -> None:
    slack.workspace.missing_users.add("U0C4A12")
    lines: list[str] = []
    with serving(_environment(slack, database_url)) as process:
        assert process.stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
        reader.start()
        deadline = time.monotonic() + 30
        while not any("member charlie" in line for line in list(lines)) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        reader.join(timeout=10)
    problems = [
        line.rstrip("\n").split(" WARNING bot.doctor: ")[1] for line in lines if " WARNING bot.doctor: " in line
    ]
    assert [problem for problem in problems if "member " in problem] == [
        "error: member charlie (Charlie, team data-eng): U0C4A12 is no user of this workspace"
        " -> fix `slack_id` of member charlie in team.yaml (profile → ⋮ → Copy member ID), then `oncall sync`"
    ]
    assert len(problems) == len(set(problems)) == 4  # and the three alert channels nobody can find by name
    assert not any("Traceback" in line for line in lines)


def test_checks_that_fail_never_stop_serving(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> list[doctor.Finding]:
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(doctor, "check_workspace", broken)
    with caplog.at_level(logging.WARNING, logger="bot.doctor"):
        doctor.check_at_start(runtime, BOT_TOKEN).join(timeout=30)
    assert [record.getMessage() for record in caplog.records] == ["the workspace checks failed (serving anyway)"]
