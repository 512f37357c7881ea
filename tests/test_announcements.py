"""Handoffs, DMs, reminders, the user group and the topic: once per key, whatever reruns,
restarts and clock changes happen; built from the database at send time."""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from announcements.sweep import Scope
from storage.db import make_engine
from storage.enums import AnnouncementKind, AnnouncementState, AuditAction
from storage.models import Member, Shift
from tests.announcing import (
    ALICE,
    BOB,
    CHARLIE,
    DANA,
    HANDOFF_7_DEC,
    TEAM_CHANNEL,
    MovingClock,
    announcer,
    audit_rows,
    key_of,
    posts,
    rows,
    sweep_at,
)
from tests.conftest import make_settings
from tests.slack_fake import FakeSlack
from tests.test_catalog import write_variant
from usecases import time_off
from usecases.audit import Actor
from usecases.runtime import open_runtime

HANDOFF_KINDS = Scope(kinds=(AnnouncementKind.HANDOFF, AnnouncementKind.HANDOFF_DM))


def _texts(post: dict[str, object]) -> str:
    return str(post["text"]) + " " + str(post["blocks"])


def test_a_boundary_posts_the_handoff_once_and_reruns_and_restarts_post_nothing(
    database_url: str, slack: FakeSlack
) -> None:
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=2))
    with announcer(database_url, slack, clock) as first:
        first.sweep()
        first.sweep()
    with announcer(database_url, slack, clock) as restarted:
        clock.advance(minutes=5)
        restarted.sweep()

    channel = posts(slack, TEAM_CHANNEL)
    assert [key_of(post) for post in channel] == ["data-eng:handoff:2026-12-07T15:00Z"]
    handoff = _texts(channel[0])
    assert "<@U0A11CE>" in handoff and "<@U0B0B00>" in handoff  # incoming primary and secondary, mentioned
    assert "from <@U0DA7A0>" in handoff  # the outgoing primary (Dana) is named too
    assert "/runbook aggregate-growth" in handoff and "/runbook unit-profit" not in handoff  # investor pipelines only
    assert "Mon 7 Dec 10:00 EST" in handoff  # team time
    dms = Counter(str(post["channel"]) for post in posts(slack) if "handoff-dm" in key_of(post))
    assert dms == {"D0A11CE": 1, "D0B0B00": 1}
    state = rows(database_url)["data-eng:handoff:2026-12-07T15:00Z"]
    assert state.state == AnnouncementState.SENT and state.attempts == 1 and state.message_ts
    assert state.channel == TEAM_CHANNEL
    sent = [
        entry for entry in audit_rows(database_url, AuditAction.ANNOUNCEMENT_SENT) if "handoff:" in entry.details["key"]
    ]
    assert len(sent) == 1 and sent[0].details["ts"] == state.message_ts


def test_nothing_is_posted_before_its_time(database_url: str, slack: FakeSlack) -> None:
    sweep_at(database_url, slack, HANDOFF_7_DEC - timedelta(seconds=1), HANDOFF_KINDS)
    assert not [post for post in posts(slack) if "2026-12-07" in key_of(post)]


def test_the_week_ahead_reminder_goes_to_each_person_of_the_shift(database_url: str, slack: FakeSlack) -> None:
    """Mon 14 Dec's shift (Charlie, Dana) is announced to them at Mon 7 Dec's handoff."""
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(seconds=1), Scope(kinds=(AnnouncementKind.REMINDER,)))
    reminders = {str(post["channel"]): post for post in posts(slack)}
    assert set(reminders) == {"D0C4A12", "D0DA7A0"}
    assert "in a week" in str(reminders["D0C4A12"]["text"]).lower()
    assert "07:00 PST" in _texts(reminders["D0C4A12"])  # Charlie's own time
    assert "Request swap" not in _texts(reminders["D0C4A12"])  # nothing of his own that week


def test_a_holiday_in_the_shift_makes_it_a_holiday_swap_reminder(database_url: str, slack: FakeSlack) -> None:
    """Mon 21 Dec's shift holds Christmas Day and Boxing Day: a swap reminder, with a button."""
    at = datetime(2026, 12, 14, 15, 0, 1, tzinfo=UTC)
    sweep_at(database_url, slack, at, Scope(kinds=(AnnouncementKind.REMINDER,)))
    [first, second] = posts(slack)
    for reminder in (first, second):
        assert "Holiday swap reminder" in _texts(reminder)
        assert "Christmas Day" in _texts(reminder) and "Request swap" in _texts(reminder)


def test_time_off_booked_the_day_before_is_in_the_handoff(database_url: str, slack: FakeSlack) -> None:
    """The message is built when it is sent: Charlie's day off on 9 Dec, booked on 6 Dec, is in it."""
    clock = MovingClock(HANDOFF_7_DEC - timedelta(days=1))
    runtime = open_runtime(make_settings(database_url, slack_api_url=slack.api_url), clock)
    try:
        time_off.book(runtime, Actor.terminal(), "charlie", date(2026, 12, 9), date(2026, 12, 9), "dentist")
    finally:
        runtime.engine.dispose()
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(seconds=1), Scope(kinds=(AnnouncementKind.HANDOFF,)))
    [handoff] = posts(slack, TEAM_CHANNEL)
    assert "Charlie away 09 Dec to 09 Dec: dentist" in _texts(handoff)


def test_an_override_before_the_boundary_changes_who_is_announced(database_url: str, slack: FakeSlack) -> None:
    """Whoever is on the shift when it starts is announced and DM'd; the one replaced gets nothing."""
    engine = make_engine(make_settings(database_url).database_url)
    sweep_at(database_url, slack, HANDOFF_7_DEC - timedelta(days=3))  # the database exists, nothing due yet
    with Session(engine) as session:
        shift = session.exec(select(Shift).where(Shift.start == HANDOFF_7_DEC)).one()
        replaced = shift.primary_id
        stand_in = next(m for m in ("alice", "bob", "charlie", "dana") if m not in (replaced, shift.secondary_id))
        secondary = session.get(Member, shift.secondary_id)
        shift.primary_id = stand_in
        session.add(shift)
        session.commit()
        ids = {member.id: member.slack_id for member in session.exec(select(Member))}
    engine.dispose()
    slack.clear()
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(seconds=1), HANDOFF_KINDS)
    [handoff] = posts(slack, TEAM_CHANNEL)
    assert f"Primary: <@{ids[stand_in]}>" in _texts(handoff)
    assert secondary is not None
    dm_channels = {"D" + ids[stand_in][1:], "D" + secondary.slack_id[1:]}
    assert {str(post["channel"]) for post in posts(slack)} == {TEAM_CHANNEL, *dm_channels}


def test_two_hours_down_sends_one_late_handoff_saying_so(database_url: str, slack: FakeSlack) -> None:
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(hours=2), HANDOFF_KINDS)
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(hours=2, minutes=1), HANDOFF_KINDS)
    [handoff] = posts(slack, TEAM_CHANNEL)
    assert "Posted late" in _texts(handoff) and "due Mon 7 Dec 10:00 EST" in _texts(handoff)
    assert rows(database_url)["data-eng:handoff:2026-12-07T15:00Z"].state == AnnouncementState.LATE


def test_two_days_down_sends_nothing_and_records_it_skipped(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(days=2), HANDOFF_KINDS)
    assert not [post for post in posts(slack) if "2026-12-07" in key_of(post)]
    row = rows(database_url)["data-eng:handoff:2026-12-07T15:00Z"]
    assert row.state == AnnouncementState.SKIPPED and row.attempts == 0
    assert "recorded as skipped" in caplog.text
    skipped = audit_rows(database_url, AuditAction.ANNOUNCEMENT_SKIPPED)
    assert "data-eng:handoff:2026-12-07T15:00Z" in {entry.details["key"] for entry in skipped}


@pytest.mark.parametrize(
    ("boundary", "reminder"),
    [
        # US clocks go forward on Sun 14 Mar 2027: the handoff stays at 10:00 New York.
        (datetime(2027, 3, 15, 14, 0, tzinfo=UTC), datetime(2027, 3, 8, 15, 0, tzinfo=UTC)),
        # ... and back on Sun 7 Nov 2027.
        (datetime(2027, 11, 8, 15, 0, tzinfo=UTC), datetime(2027, 11, 1, 14, 0, tzinfo=UTC)),
    ],
    ids=["march", "november"],
)
def test_dst_weeks_post_at_ten_new_york_once(
    database_url: str, slack: FakeSlack, boundary: datetime, reminder: datetime
) -> None:
    clock = MovingClock(reminder - timedelta(hours=1, seconds=1))
    reminders = Scope(kinds=(AnnouncementKind.REMINDER,))
    with announcer(database_url, slack, clock) as instance:
        for step in (timedelta(0), timedelta(hours=1), timedelta(hours=1, seconds=2), timedelta(hours=2)):
            clock.at = reminder - timedelta(hours=1, seconds=1) + step
            instance.sweep(reminders)
            if step == timedelta(hours=1):
                assert not [p for p in posts(slack) if boundary.strftime("%Y-%m-%dT%H:%MZ") in key_of(p)]
        for offset in (
            timedelta(hours=-1, seconds=-1),
            timedelta(seconds=-1),
            timedelta(seconds=1),
            timedelta(hours=1),
        ):
            clock.at = boundary + offset
            instance.sweep(HANDOFF_KINDS)
            if offset == timedelta(seconds=-1):
                assert not [p for p in posts(slack, TEAM_CHANNEL) if key_of(p).startswith("data-eng:handoff:")]
    subject = boundary.strftime("%Y-%m-%dT%H:%MZ")
    assert [key_of(p) for p in posts(slack, TEAM_CHANNEL)] == [f"data-eng:handoff:{subject}"]
    assert len([p for p in posts(slack) if key_of(p).startswith(f"data-eng:reminder:{subject}")]) == 2
    assert "10:00" in _texts(posts(slack, TEAM_CHANNEL)[0])


def test_the_year_boundary_handoff_posts_once(database_url: str, slack: FakeSlack) -> None:
    boundary = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Mon 4 Jan 2027, 10:00 EST
    sweep_at(database_url, slack, boundary - timedelta(days=7, seconds=-1), HANDOFF_KINDS)
    sweep_at(database_url, slack, boundary + timedelta(seconds=1), HANDOFF_KINDS)
    sweep_at(database_url, slack, boundary + timedelta(seconds=5), HANDOFF_KINDS)
    keys = [key_of(p) for p in posts(slack, TEAM_CHANNEL)]
    assert keys == ["data-eng:handoff:2026-12-28T15:00Z", "data-eng:handoff:2027-01-04T15:00Z"]


def test_the_user_group_and_topic_follow_two_handoffs(database_url: str, slack: FakeSlack) -> None:
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(seconds=1))
    assert sorted(slack.workspace.usergroup_members("data-oncall")) == sorted([ALICE, BOB])
    assert slack.workspace.topic(TEAM_CHANNEL).startswith("On call: Alice (primary), Bob (secondary)")
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(days=7, seconds=1))
    assert sorted(slack.workspace.usergroup_members("data-oncall")) == sorted([CHARLIE, DANA])
    assert "Charlie (primary), Dana (secondary)" in slack.workspace.topic(TEAM_CHANNEL)
    assert len(slack.calls_to("usergroups.create")) == 1  # created once, then found


@pytest.mark.parametrize("refusal", ["paid_teams_only", "permission_denied", "missing_scope"])
def test_a_workspace_refusing_user_groups_still_gets_its_posts(
    database_url: str, slack: FakeSlack, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack.workspace.usergroups_refusal = refusal
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock) as instance:
        instance.sweep()
        clock.advance(minutes=10)
        instance.sweep()
    assert len(posts(slack, TEAM_CHANNEL)) == 1
    group = rows(database_url)["data-eng:oncall-group:2026-12-07T15:00Z"]
    assert group.state == AnnouncementState.FAILED and refusal in (group.last_error or "")
    assert [r.message for r in caplog.records if refusal in r.getMessage()].__len__() == 1  # said once, with the fix
    assert len(slack.calls_to("usergroups.list")) == 1  # no retry storm
    slack.workspace.usergroups_refusal = None
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(days=7, seconds=1))  # the next handoff tries again
    assert sorted(slack.workspace.usergroup_members("data-oncall")) == sorted([CHARLIE, DANA])


def test_a_member_who_left_gets_no_dm_but_the_channel_still_hears(database_url: str, slack: FakeSlack) -> None:
    slack.workspace.user_errors[ALICE] = "account_inactive"
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(seconds=1), HANDOFF_KINDS)
    assert len(posts(slack, TEAM_CHANNEL)) == 1
    dm = rows(database_url)["data-eng:handoff-dm:2026-12-07T15:00Z:alice"]
    assert dm.state == AnnouncementState.FAILED and "account_inactive" in (dm.last_error or "")
    assert "deactivated" in (dm.last_error or "")


def test_members_table_is_what_the_keys_name(database_url: str, slack: FakeSlack) -> None:
    """Recipients in keys are member ids, so a changed Slack id does not re-send."""
    sweep_at(database_url, slack, HANDOFF_7_DEC + timedelta(seconds=1), HANDOFF_KINDS)
    engine = make_engine(make_settings(database_url).database_url)
    with Session(engine) as session:
        ids = {member.id for member in session.exec(select(Member))}
    engine.dispose()
    recipients = {row.recipient for row in rows(database_url).values() if row.recipient}
    assert recipients <= ids


def test_a_member_without_a_slack_id_is_named_not_mentioned_and_gets_no_dm(
    database_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    """A member `oncall sync` could not find yet (placeholder id) is shown by name in the
    channel; no DM goes to the placeholder, and the user group holds only real people."""

    def unresolved(team: dict[str, Any]) -> None:
        for member in team["members"]:
            if member["id"] == "alice":
                member.pop("slack_id")

    team_file = write_variant(tmp_path, unresolved)
    clock = MovingClock(HANDOFF_7_DEC + timedelta(seconds=1))
    with announcer(database_url, slack, clock, oncall_team_file=team_file) as instance:
        instance.sweep()
    [handoff] = posts(slack, TEAM_CHANNEL)
    assert "*Alice*" in _texts(handoff) and "U0000000" not in _texts(handoff)
    assert not [call for call in slack.calls if "U0000000" in json.dumps(call.body)]
    dm = rows(database_url)["data-eng:handoff-dm:2026-12-07T15:00Z:alice"]
    assert dm.state == AnnouncementState.SKIPPED
    assert slack.workspace.usergroup_members("data-oncall") == [BOB]
