"""`/runbook`, its buttons and mentions, driven over HTTP the way Slack drives them."""

import json
import re
from typing import Any

from tests.slack_fake import FakeSlack, app_mention, click_button, event_callback, post
from tests.test_slack_commands import run_command, section_texts


def test_runbook_shows_owners_on_call_and_every_section(bot_url: str, slack: FakeSlack) -> None:
    answer = run_command(bot_url, slack, "/runbook", "aggregate-growth")
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Aggregate Growth for Investors"},
    }
    text = section_texts(answer)
    assert "*Owners:* <@U0C4A12> (primary), <@U0DA7A0> (secondary)" in text
    assert "*On call now:* <@U0DA7A0> (primary), <@U0A11CE> (secondary)" in text
    for title in (
        "Description",
        "Failure modes",
        "Schema changes",
        "Monitoring and alerts",
        "First response",
        "Rollback",
    ):
        assert f"{title}*" in text or f"{title}_*" in text, title
    assert "**" not in re.sub(r"`[^`]*`", "", text)  # Markdown bold became Slack bold (code untouched)
    assert len(answer["blocks"]) <= 50
    assert all(len(block.get("text", {}).get("text", "")) <= 3000 for block in answer["blocks"])


def test_share_posts_in_the_channel(bot_url: str, slack: FakeSlack) -> None:
    answer = run_command(bot_url, slack, "/runbook", "aggregate-profit share")
    assert answer["response_type"] == "in_channel"
    assert "Aggregate Profit for Investors" in json.dumps(answer)


def test_runbook_alone_lists_all_grouped_by_area(bot_url: str, slack: FakeSlack) -> None:
    text = section_texts(run_command(bot_url, slack, "/runbook", ""))
    positions = [text.index(f"*{area}*") for area in ("Profit", "Growth", "Engagement")]
    assert positions == sorted(positions)
    for slug in ("unit-profit", "aggregate-profit", "aggregate-growth", "daily-growth", "aggregate-engagement"):
        assert f"`{slug}`" in text


def test_typo_gets_did_you_mean_and_a_button(bot_url: str, slack: FakeSlack) -> None:
    answer = run_command(bot_url, slack, "/runbook", "agregate-growht")
    assert "did you mean `aggregate-growth`?" in section_texts(answer)
    click = click_button(
        answer["blocks"], "open_runbook:aggregate-growth", user_id="U0A11CE", response_url=slack.response_url("r2")
    )
    status, _, _ = post(f"{bot_url}/slack/events", click)
    assert status == 200
    reply = slack.wait_for("response/r2")[0].body
    assert reply["replace_original"] is True
    assert reply["blocks"][0]["text"]["text"] == "Aggregate Growth for Investors"


def test_several_matches_offer_a_choice(bot_url: str, slack: FakeSlack) -> None:
    answer = run_command(bot_url, slack, "/runbook", "growth")
    buttons = [e["value"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["aggregate-growth", "daily-growth"]


def test_unknown_pipeline_with_no_close_name_lists_the_known_ones(bot_url: str, slack: FakeSlack) -> None:
    text = section_texts(run_command(bot_url, slack, "/runbook", "zzzz"))
    assert "no pipeline 'zzzz'" in text and "aggregate-engagement" in text


def _mention(bot_url: str, text: str, ts: str = "1701000000.000100") -> None:
    status, _, _ = post(f"{bot_url}/slack/events", event_callback(app_mention(text, ts=ts)))
    assert status == 200


def test_mention_who_is_on_call_answers_in_a_thread(bot_url: str, slack: FakeSlack) -> None:
    _mention(bot_url, "<@U0BOT> who is on call?", ts="1701000000.000200")
    call = slack.wait_for("chat.postMessage")[0].body
    assert call["thread_ts"] == "1701000000.000200"
    assert call["channel"] == "C0TEAM"
    assert "Primary: <@U0DA7A0>" in section_texts(call)


def test_mention_runbook_answers_in_a_thread(bot_url: str, slack: FakeSlack) -> None:
    _mention(bot_url, "<@U0BOT> runbook aggregate-profit")
    call: dict[str, Any] = slack.wait_for("chat.postMessage")[0].body
    assert call["thread_ts"] == "1701000000.000100"
    assert call["blocks"][0]["text"]["text"] == "Aggregate Profit for Investors"


def test_mention_with_a_typed_broadcast_is_answered_harmlessly(bot_url: str, slack: FakeSlack) -> None:
    _mention(bot_url, "<@U0BOT> <!channel> dance")
    call = slack.wait_for("chat.postMessage")[0]
    assert "<!channel>" not in call.raw_body and "&lt;!channel&gt;" in json.dumps(call.body)
