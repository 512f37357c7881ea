"""Helpers for the announcement tests: a clock the test moves, the announcer as
`oncall serve` builds it (talking to the fake Slack over HTTP), and outbox reads."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from announcements.sweep import Announcer, Scope, SweepReport
from bot.announcing import slack_announcer
from storage.db import make_engine
from storage.models import Announcement, AuditEntry
from tests.conftest import make_settings
from tests.slack_fake import BOT_TOKEN, FakeSlack
from usecases.runtime import Runtime, open_runtime

# The example team: Alice (primary) and Bob (secondary) from Mon 7 Dec 2026 10:00 New York.
HANDOFF_7_DEC = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
TEAM_CHANNEL = "C0DATAENG"
ALICE, BOB, CHARLIE, DANA = "U0A11CE", "U0B0B00", "U0C4A12", "U0DA7A0"


@dataclass
class MovingClock:
    """Time as the test says: `clock.at = ...` moves it for everything reading it."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@contextmanager
def announcer(database_url: str, slack: FakeSlack, clock: MovingClock, **overrides: object) -> Iterator[Announcer]:
    """A fresh instance (as after a restart): its own runtime, engine and Slack client."""
    settings = make_settings(database_url, slack_api_url=slack.api_url, **overrides)
    runtime = open_runtime(settings, clock)
    try:
        yield slack_announcer(runtime, BOT_TOKEN)
    finally:
        runtime.engine.dispose()


def sweep_at(database_url: str, slack: FakeSlack, at: datetime, scope: Scope | None = None) -> SweepReport:
    with announcer(database_url, slack, MovingClock(at)) as instance:
        return instance.sweep(scope or Scope())


def rows(database_url: str) -> dict[str, Announcement]:
    """Every outbox row by key."""
    engine = make_engine(make_settings(database_url).database_url)
    try:
        with Session(engine) as session:
            return {row.key: row for row in session.exec(select(Announcement))}
    finally:
        engine.dispose()


def audit_rows(database_url: str, action: str) -> list[AuditEntry]:
    engine = make_engine(make_settings(database_url).database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)))
    finally:
        engine.dispose()


def posts(slack: FakeSlack, channel: str | None = None) -> list[dict[str, Any]]:
    """Successful `chat.postMessage` calls (to `channel`, a user id or channel id)."""
    found = [call for call in slack.calls_to("chat.postMessage") if call.status == 200 and call.response.get("ok")]
    return [call.body for call in found if channel is None or call.body.get("channel") == channel]


def key_of(post: dict[str, Any]) -> str:
    metadata = post["metadata"]
    return str(metadata["event_payload"]["key"])


def runtime_for(database_url: str, slack: FakeSlack, clock: MovingClock) -> Runtime:
    return open_runtime(make_settings(database_url, slack_api_url=slack.api_url), clock)
