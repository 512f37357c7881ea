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
        if cached is None or self._monotonic() - cached[0] > self._ttl:
            cached = (self._monotonic(), _fetch(client, user_id))
            with self._lock:
                self._entries[user_id] = cached
        return cached[1] or fallback


def _fetch(client: WebClient, user_id: str) -> str | None:
    try:
        user = client.users_info(user=user_id).get("user") or {}
        tz = user.get("tz") if isinstance(user, dict) else None
    except SlackApiError as error:
        log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
        return None
    try:
        return str(ZoneInfo(tz)) if isinstance(tz, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None
