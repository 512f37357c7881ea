"""Slash commands through the real HTTP server, signed and encoded exactly as Slack does."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Member, Shift
from tests.slack_fake import FakeSlack, post, slash_command


def run_command(bot_url: str, slack: FakeSlack, command: str, text: str, user_id: str = "U0A11CE") -> dict[str, Any]:
    """Send a signed slash command; return the JSON the bot acknowledged with."""
    body = slash_command(command, text, user_id=user_id, response_url=slack.response_url())
    status, _headers, answer = post(f"{bot_url}/slack/events", body)
    assert status == 200, answer
    parsed = json.loads(answer)
    assert isinstance(parsed, dict)
    return parsed


def section_texts(message: dict[str, Any]) -> str:
    """All the mrkdwn a person would read in the message's blocks."""
    texts = []
    for block in message.get("blocks", []):
        if block.get("text"):
            texts.append(block["text"]["text"])
        texts += [element.get("text", "") for element in block.get("elements", []) if isinstance(element, dict)]
    return "\n".join(str(text) for text in texts)


def test_oncall_now_names_both_people_in_the_askers_timezone(bot_url: str, slack: FakeSlack) -> None:
    slack.user_timezones["U0B0B00"] = "Europe/London"
    answer = run_command(bot_url, slack, "/oncall", "now", user_id="U0B0B00")
    text = section_texts(answer)
    assert answer["response_type"] == "ephemeral"
    assert "Primary: <@U0DA7A0>" in text and "Secondary: <@U0A11CE>" in text
    assert "until Mon 7 Dec 15:00 GMT" in text  # 10:00 New York handoff, shown in London time
    assert slack.calls_to("users.info")[0].body["user"] == "U0B0B00"


def test_empty_text_means_now_and_timezone_lookups_are_cached(bot_url: str, slack: FakeSlack) -> None:
    first = run_command(bot_url, slack, "/oncall", "")
    second = run_command(bot_url, slack, "/oncall", "now")
    assert section_texts(first) == section_texts(second)
    assert "until Mon 7 Dec 10:00 EST" in section_texts(first)
    assert len(slack.calls_to("users.info")) == 1


def test_users_info_failure_shows_a_member_their_own_timezone_from_the_team_file(
    bot_url: str, slack: FakeSlack
) -> None:
    slack.set_response("users.info", {"ok": False, "error": "missing_scope"})
    answer = run_command(bot_url, slack, "/oncall", "now", user_id="U0B0B00")  # Bob, Europe/London in team.yaml
    assert "until Mon 7 Dec 15:00 GMT" in section_texts(answer)
    assert "Europe/London" in section_texts(answer)


def test_users_info_failure_shows_a_stranger_the_team_timezone(bot_url: str, slack: FakeSlack) -> None:
    slack.set_response("users.info", {"ok": False, "error": "missing_scope"})
    answer = run_command(bot_url, slack, "/oncall", "now", user_id="U0STRANGER")
    assert "until Mon 7 Dec 10:00 EST" in section_texts(answer)
    assert "America/New_York" in section_texts(answer)


def stored_slack_ids(database_url: str, start: datetime) -> tuple[str, str]:
    """Slack ids of the primary and secondary the database holds for the shift at `start`."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            shift = session.exec(select(Shift).where(Shift.start == start)).one()
            primary, secondary = session.get(Member, shift.primary_id), session.get(Member, shift.secondary_id)
            assert primary is not None and secondary is not None
            return primary.slack_id, secondary.slack_id
    finally:
        engine.dispose()


def test_next_and_schedule(bot_url: str, slack: FakeSlack, database_url: str) -> None:
    nxt = section_texts(run_command(bot_url, slack, "/oncall", "next"))
    primary, secondary = stored_slack_ids(database_url, datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    assert f"Primary: <@{primary}>" in nxt and f"Secondary: <@{secondary}>" in nxt
    schedule = section_texts(run_command(bot_url, slack, "/oncall", "schedule 2"))
    assert schedule.count("\n`") + schedule.startswith("`") >= 1
    assert "Mon 30 Nov 10:00 EST" in schedule and "Mon 14 Dec 10:00 EST" in schedule
    assert "Mon 21 Dec" not in schedule
    default = section_texts(run_command(bot_url, slack, "/oncall", "schedule"))
    assert "Mon 21 Dec 10:00 EST" in default


def test_who_shows_owners_and_the_current_on_call(bot_url: str, slack: FakeSlack) -> None:
    text = section_texts(run_command(bot_url, slack, "/oncall", "who aggregate-growth"))
    assert "*Owners:* <@U0C4A12> (primary), <@U0DA7A0> (secondary)" in text
    assert "*On call now:* <@U0DA7A0> (primary), <@U0A11CE> (secondary)" in text


@pytest.mark.parametrize("text", ["help", "bogus", "schedule lots", "schedule 0", "who"])
def test_help_and_unknown_input(bot_url: str, slack: FakeSlack, text: str) -> None:
    answer = section_texts(run_command(bot_url, slack, "/oncall", text))
    assert "/oncall schedule [weeks]" in answer
    if text != "help":
        assert ":warning:" in answer


@pytest.mark.parametrize("typed", ["<!channel>", "<!here>", "<@U0B0B00>", "<!subteam^S123>", "&lt;!channel&gt;"])
def test_typed_mentions_are_echoed_harmlessly(bot_url: str, slack: FakeSlack, typed: str) -> None:
    for command, text in (("/oncall", typed), ("/runbook", typed), ("/oncall", f"who {typed}")):
        raw = json.dumps(run_command(bot_url, slack, command, text))
        assert "<!" not in raw and "<@U0B0B00>" not in raw.replace("<@U0B0B00> (secondary)", "")
    assert slack.calls_to("chat.postMessage") == []


def test_command_text_containing_payload_reaches_the_bot(bot_url: str, slack: FakeSlack) -> None:
    """Bolt 1.30 answers any form body containing "payload" with 404 (see bot/bolt_fix.py)."""
    answer = section_texts(run_command(bot_url, slack, "/runbook", "payload-size"))
    assert "No pipeline" in answer or "no pipeline" in answer
    answer = section_texts(run_command(bot_url, slack, "/oncall", "who payload"))
    assert "payload" in answer


def test_rate_limited_timezone_lookup_does_not_delay_the_answer(bot_url: str, slack: FakeSlack) -> None:
    """users.info runs before the 3-second ack: a 429 must not make us wait out Retry-After."""
    slack.fail_next("users.info", status=429, headers={"Retry-After": "30"})
    answer = run_command(bot_url, slack, "/oncall", "now", user_id="U0B0B00")
    assert "until Mon 7 Dec 15:00 GMT" in section_texts(answer)  # Bob's own timezone, from team.yaml
