"""When Slack says no: rate limits and outages delay a message but never lose it or
double it; permanent errors are recorded with their fix, once, and never retried."""

from datetime import timedelta

import pytest

from announcements.sweep import Announcer, Scope
from storage import outbox
from storage.db import session_scope
from storage.enums import AnnouncementKind, AnnouncementState
from tests.announcing import HANDOFF_7_DEC, TEAM_CHANNEL, MovingClock, announcer, key_of, posts, rows
from tests.slack_fake import FakeSlack

HANDOFF = Scope(kinds=(AnnouncementKind.HANDOFF,))
KEY = "data-eng:handoff:2026-12-07T15:00Z"


def _sweep_until_done(instance_clock: MovingClock, instance: Announcer, database_url: str, steps: int = 40) -> int:
    """Sweep every second of test time until the handoff is no longer pending; the sweeps used."""
    for used in range(1, steps + 1):
        instance.sweep(HANDOFF)
        if rows(database_url)[KEY].state not in (AnnouncementState.PENDING, AnnouncementState.CLAIMED):
            return used
        instance_clock.advance(seconds=1)
    raise AssertionError(f"still {rows(database_url)[KEY].state} after {steps} sweeps")


def test_a_429_storm_delays_the_handoff_but_posts_it_once(database_url: str, slack: FakeSlack) -> None:
    slack.first_ts_seconds = int(HANDOFF_7_DEC.timestamp())
    slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "3"}, times=4)
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        instance.sweep(HANDOFF)
        row = rows(database_url)[KEY]
        assert row.state == AnnouncementState.PENDING and row.next_attempt_at == clock.at + timedelta(seconds=3)
        clock.advance(seconds=2)
        instance.sweep(HANDOFF)  # not yet: Slack asked for 3 s
        assert len(slack.calls_to("chat.postMessage")) == 1
        _sweep_until_done(clock, instance, database_url)
    assert [key_of(post) for post in posts(slack, TEAM_CHANNEL)] == [KEY]
    assert len(slack.workspace.messages_with_metadata_key(KEY)) == 1
    row = rows(database_url)[KEY]
    assert row.state == AnnouncementState.SENT and row.attempts == 5


@pytest.mark.parametrize("status", [500, 503, 0], ids=["500", "503", "dropped-connection"])
def test_server_errors_and_dropped_connections_are_retried_with_backoff(
    database_url: str, slack: FakeSlack, status: int
) -> None:
    slack.first_ts_seconds = int(HANDOFF_7_DEC.timestamp())
    slack.fail_next(
        "chat.postMessage", status=status, headers={}, body={"ok": False, "error": "internal_error"}, times=2
    )
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        instance.sweep(HANDOFF)
        first_retry = rows(database_url)[KEY].next_attempt_at
        assert first_retry == clock.at + timedelta(seconds=5)
        _sweep_until_done(clock, instance, database_url)
    assert len(slack.workspace.messages_with_metadata_key(KEY)) == 1
    assert slack.calls_to("conversations.history")  # each retry looked first: the failed call might have landed


def test_a_permanent_error_is_recorded_with_its_fix_once_and_never_retried(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.workspace.channel_errors[TEAM_CHANNEL] = "not_in_channel"
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        for _ in range(5):
            instance.sweep()
            clock.advance(minutes=1)
    to_channel = [call for call in slack.calls_to("chat.postMessage") if call.body.get("channel") == TEAM_CHANNEL]
    assert len(to_channel) == 1  # no retry storm
    row = rows(database_url)[KEY]
    assert row.state == AnnouncementState.FAILED and "/invite @oncall" in (row.last_error or "")
    assert len([r for r in caplog.records if KEY in r.getMessage() and r.levelname == "ERROR"]) == 1
    assert len([post for post in posts(slack) if ":handoff-dm:" in key_of(post)]) == 2  # the DMs still went


def test_a_transient_failure_past_the_grace_period_is_failed_not_lost_silently(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next(
        "chat.postMessage", status=503, headers={}, body={"ok": False, "error": "service_unavailable"}, times=1000
    )
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock, announce_grace_hours=1) as instance:
        instance.sweep(HANDOFF)
        clock.advance(hours=1, seconds=1)
        instance.sweep(HANDOFF)
    row = rows(database_url)[KEY]
    assert row.state == AnnouncementState.FAILED and "not sent within" in (row.last_error or "")


def test_history_without_its_scope_weakens_the_guarantee_and_says_so(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.workspace.history_error = "missing_scope"
    slack.fail_next("chat.postMessage", status=500, headers={}, body={"ok": False, "error": "internal_error"}, times=1)
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        instance.sweep(HANDOFF)
        clock.advance(seconds=6)
        instance.sweep(HANDOFF)
    assert rows(database_url)[KEY].state == AnnouncementState.SENT
    assert "could be posted twice" in caplog.text


def test_a_duplicate_found_on_takeover_is_deleted(database_url: str, slack: FakeSlack) -> None:
    """Two copies in the channel (a crash after Slack took the post, then a slow instance
    posting again): the next owner keeps the first and deletes the other."""
    slack.first_ts_seconds = int(HANDOFF_7_DEC.timestamp())
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    slack.fail_next("chat.postMessage", status=0, times=1)  # the first attempt's answer is lost
    with announcer(database_url, slack, clock) as instance:
        instance.sweep(HANDOFF)
        metadata = {"event_type": "oncall_announcement", "event_payload": {"key": KEY}}
        first = slack.workspace.add_message(TEAM_CHANNEL, "Handoff", metadata=metadata)
        slack.workspace.add_message(TEAM_CHANNEL, "Handoff", metadata=metadata)
        clock.advance(seconds=6)
        instance.sweep(HANDOFF)
    [kept] = slack.workspace.messages_with_metadata_key(KEY)
    assert kept[1]["ts"] == first["ts"] == rows(database_url)[KEY].message_ts
    assert len(slack.calls_to("chat.delete")) == 1


def test_a_history_lookup_slack_cannot_answer_is_retried_not_guessed(database_url: str, slack: FakeSlack) -> None:
    """A retried row must not post while Slack cannot say whether the first attempt landed."""
    slack.first_ts_seconds = int(HANDOFF_7_DEC.timestamp())
    slack.fail_next("chat.postMessage", status=0, times=1)  # the first attempt's fate is unknown
    slack.fail_next("conversations.history", status=503, headers={}, body={"ok": False, "error": "service_unavailable"})
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        instance.sweep(HANDOFF)
        clock.advance(seconds=6)
        instance.sweep(HANDOFF)  # history fails: no post, back to pending
        assert len(slack.calls_to("chat.postMessage")) == 1
        assert rows(database_url)[KEY].state == AnnouncementState.PENDING
        _sweep_until_done(clock, instance, database_url)
    assert len(slack.workspace.messages_with_metadata_key(KEY)) == 1


def test_thousands_of_rows_are_recorded_and_swept_in_batches(database_url: str, slack: FakeSlack) -> None:
    """More rows than one statement may carry; rows no message can be built for (as left by
    an older release) are skipped without stopping the sweep."""
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        dues = [
            outbox.Due(
                f"data-eng:handoff:old-{i}", "data-eng", AnnouncementKind.HANDOFF, f"old-{i}", None, HANDOFF_7_DEC
            )
            for i in range(1200)
        ]
        with session_scope(instance.runtime.engine) as session:
            assert len(outbox.record(session, dues, clock.at, timedelta(hours=6))) == 1200
        with session_scope(instance.runtime.engine) as session:
            assert outbox.record(session, dues, clock.at, timedelta(hours=6)) == []
        report = instance.sweep(HANDOFF)
    assert report.outcomes["skipped"] == 1200 + 1 and report.outcomes["sent"] == 1  # + last week's, missed
    assert [key_of(post) for post in posts(slack, TEAM_CHANNEL)] == [KEY]
