"""Wiring the outbox to Slack: the announcer every front end uses (`oncall serve`,
`oncall worker`, `oncall announce`), and what `/healthz` says about it."""

import os
import socket
import uuid
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from announcements.scheduler import AnnouncementScheduler
from announcements.sweep import Announcer
from bot.courier import SlackCourier
from core.settings import Settings
from storage import outbox
from usecases.runtime import Runtime

TIMEOUT_SECONDS = 10


def instance_name() -> str:
    """Names this process's claims in the outbox (and in the audit trail)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def plain_client(settings: Settings, token: str) -> WebClient:
    """A client with no retry handlers: the outbox retries through its history check (a
    post retried inside one call could land twice), and the doctor reports what it meets."""
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT_SECONDS, retry_handlers=[])


def slack_announcer(runtime: Runtime, token: str) -> Announcer:
    client = plain_client(runtime.settings, token)
    grace = timedelta(hours=runtime.settings.announce_grace_hours)
    return Announcer(runtime, SlackCourier(client), instance_name(), grace=grace)


def start_scheduler(runtime: Runtime, token: str) -> AnnouncementScheduler | None:
    """The running scheduler, or None when `ONCALL_ANNOUNCEMENTS` is off."""
    if not runtime.settings.oncall_announcements:
        return None
    scheduler = AnnouncementScheduler(slack_announcer(runtime, token))
    scheduler.start()
    return scheduler


def health_details(runtime: Runtime, scheduler: AnnouncementScheduler | None) -> dict[str, Any]:
    with runtime.session() as session:
        overdue = outbox.oldest_overdue(session, runtime.clock())
    return {
        "scheduler": scheduler.status() if scheduler is not None else {"state": "off"},
        "oldest_overdue": None
        if overdue is None
        else {"key": overdue.key, "due_at": overdue.due_at.isoformat(), "state": overdue.state.value},
    }
