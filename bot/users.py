"""The asker's timezone from Slack's `users.info`, cached so a busy channel costs one call
per person per hour; on any failure the team's timezone is used instead."""

import logging
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600.0
RETRY_FAILED_AFTER = 60.0
LOOKUP_TIMEOUT = 2  # seconds; the team timezone is a fine answer when Slack is slow


class TimezoneCache:
    def __init__(self, ttl: float = CACHE_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def timezone_of(self, client: WebClient, user_id: str, fallback: str) -> str:
        """The user's IANA timezone, or `fallback` when Slack does not say."""
        with self._lock:
            cached = self._entries.get(user_id)
        if cached is None or self._monotonic() > cached[0]:
            timezone = _fetch(client, user_id)
            keep = self._ttl if timezone else RETRY_FAILED_AFTER  # a failed lookup is retried soon
            cached = (self._monotonic() + keep, timezone)
            with self._lock:
                self._entries[user_id] = cached
        return cached[1] or fallback


def _fetch(client: WebClient, user_id: str) -> str | None:
    """One quick try: this runs before the 3-second ack, so no rate-limit back-off here."""
    quick = WebClient(token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT, retry_handlers=[])
    try:
        user = quick.users_info(user=user_id).get("user") or {}
        tz = user.get("tz") if isinstance(user, dict) else None
    except SlackApiError as error:
        log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
        return None
    except OSError as error:  # timeouts and connection errors
        log.warning("users.info unreachable for %s: %s", user_id, error)
        return None
    try:
        return str(ZoneInfo(tz)) if isinstance(tz, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None
