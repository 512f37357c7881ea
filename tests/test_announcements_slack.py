"""The announcements as Slack shows them: the holiday swap reminder's button clicked the
way Slack sends it, the blocks inside Block Kit's limits, and
`/healthz` reporting the outbox."""

import json
import urllib.request
from datetime import UTC, datetime, timedelta

from announcements.sweep import Scope
from storage.enums import AnnouncementKind
from tests.announcing import TEAM_CHANNEL, posts, sweep_at
from tests.slack_fake import FakeSlack, click_button, post

CHRISTMAS_REMINDERS = datetime(2026, 12, 14, 15, 0, 1, tzinfo=UTC)  # a week before Mon 21 Dec's shift


def test_the_request_swap_button_explains_how_to_swap_and_changes_nothing(
    bot_url: str, database_url: str, slack: FakeSlack
) -> None:
    sweep_at(database_url, slack, CHRISTMAS_REMINDERS, Scope(kinds=(AnnouncementKind.REMINDER,)))
    reminder = posts(slack)[0]
    blocks = reminder["blocks"]
    assert isinstance(blocks, list)
    user = "U" + str(reminder["channel"])[1:]  # the DM's member
    [action] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    body = click_button(
        blocks,
        action["action_id"],
        user_id=user,
        response_url=slack.response_url("swap"),
        channel_id=str(reminder["channel"]),
    )
    status, _, _ = post(f"{bot_url}/slack/events", body)
    assert status == 200
    [answer] = slack.wait_for("response/swap")
    text = json.dumps(answer.body)
    assert "/oncall swap" in text and f"<#{TEAM_CHANNEL}>" in text
    assert answer.body.get("replace_original") is False  # the reminder stays as it was


def test_the_handoff_fits_block_kit_and_carries_its_key(database_url: str, slack: FakeSlack) -> None:
    sweep_at(database_url, slack, datetime(2026, 12, 7, 15, 0, 1, tzinfo=UTC), Scope(kinds=(AnnouncementKind.HANDOFF,)))
    [handoff] = posts(slack, TEAM_CHANNEL)
    blocks = handoff["blocks"]
    assert isinstance(blocks, list) and 1 <= len(blocks) <= 50
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= (150 if block["type"] == "header" else 3000)
    assert handoff["metadata"]["event_type"] == "oncall_announcement"


def test_healthz_reports_the_scheduler_and_the_oldest_overdue_message(
    bot_url: str, database_url: str, slack: FakeSlack
) -> None:
    def health() -> dict[str, object]:
        with urllib.request.urlopen(f"{bot_url}/healthz", timeout=5) as response:
            answer: dict[str, object] = json.loads(response.read())
            return answer

    assert health()["scheduler"] == {"state": "off"}  # the test server runs no scheduler
    assert health()["oldest_overdue"] is None
    slack.fail_next("chat.postMessage", status=503, headers={}, body={"ok": False, "error": "service_unavailable"})
    handoff = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # the bot's clock says Tue 1 Dec 12:00
    sweep_at(database_url, slack, handoff + timedelta(seconds=1), Scope(kinds=(AnnouncementKind.HANDOFF,)))
    assert health()["oldest_overdue"] == {
        "key": "data-eng:handoff:2026-11-30T15:00Z",
        "due_at": handoff.isoformat(),
        "state": "pending",
    }
