"""Delivering announcements to Slack: posts, DMs, the on-call user group, the topic.

The client has no retry handlers of its own: a post retried inside one attempt could
land twice, since `chat.postMessage` has no idempotency key. Every retry goes back
through the outbox, whose next attempt first looks in the conversation's history for a
message carrying the key in its metadata. That needs the history scopes
(`channels:history`, `groups:history`, `im:history`); without them a post retried after
a crash could repeat, and this says so in the log, once per conversation.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from announcements.content import Content, GroupUpdate, Handoff, HandoffDM, HolidayNotice, Reminder, TopicUpdate
from announcements.courier import Delivered, DeliveryFailed
from bot.views import announcements as views
from bot.views.message import Message
from schedules.people import Person

log = logging.getLogger(__name__)
HISTORY_PAGES = 10  # of 200 messages: far more than a channel gets between due time and now

_INVITE = "invite the bot to the channel (`/invite @oncall` there), or fix `channel` in team.yaml"
FIXES = {
    "channel_not_found": "the bot cannot see this channel: " + _INVITE,
    "not_in_channel": _INVITE,
    "is_archived": "the channel is archived: unarchive it, or point `channel` in team.yaml at the new one",
    "user_not_found": "this member's `slack_id` in team.yaml is no user of this workspace: fix it, then `oncall sync`",
    "account_inactive": "this member's Slack account is deactivated: update team.yaml, then `oncall sync`",
    "user_disabled": "this member's Slack account is deactivated: update team.yaml, then `oncall sync`",
    "paid_teams_only": "user groups need a paid Slack plan: upgrade, or remove `oncall_group` from team.yaml",
    "permission_denied": (
        "workspace admins limit who may manage user groups: let apps manage them, or remove `oncall_group`"
    ),
    "missing_scope": "the app lacks a scope this needs: reinstall it from slack-manifest.yaml",
    "not_allowed_token_type": "use the bot token (xoxb-) in SLACK_BOT_TOKEN",
}
TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "invalid_auth",
    "not_authed",
    "token_revoked",
}


class SlackCourier:
    """Implements `announcements.courier.Courier` over one `WebClient`."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._dm_channels: dict[str, str] = {}
        self._group_ids: dict[str, str] = {}
        self._warned: set[str] = set()

    def deliver(self, content: Content, key: str, *, check_first: bool, since: datetime) -> Delivered:
        if isinstance(content, GroupUpdate):
            return self._set_group(content)
        if isinstance(content, TopicUpdate):
            _call(
                self._client.conversations_setTopic,
                channel=content.channel,
                topic=views.topic(content.shift, content.handle),
            )
            return Delivered(content.channel, None)
        channel, message = self._destination(content)
        if check_first:
            found = self._tagged(channel, key, since)
            if found:
                self._delete(channel, found[1:])
                return Delivered(channel, found[0])
        payload = message.payload() | {"metadata": views.metadata(key), "unfurl_links": False, "unfurl_media": False}
        response = _call(self._client.chat_postMessage, channel=channel, **payload)
        return Delivered(str(response["channel"]), str(response["ts"]))

    def remove_duplicates(self, delivered: Delivered, key: str, since: datetime) -> int:
        """Only our own post goes, and only when another copy exists: the one that won
        the claim is what the outbox recorded."""
        if delivered.channel is None or delivered.ts is None:
            return 0
        found = self._tagged(delivered.channel, key, since)
        if len(found) < 2 or delivered.ts not in found:
            return 0
        self._delete(delivered.channel, [delivered.ts])
        return 1

    def _destination(self, content: Content) -> tuple[str, Message]:
        if isinstance(content, Handoff):
            return content.facts.channel, views.handoff_message(content)
        if isinstance(content, HolidayNotice):
            return content.channel, views.holiday_notice_message(content)
        if isinstance(content, HandoffDM):
            return self._dm(content.member), views.handoff_dm_message(content)
        if isinstance(content, Reminder):
            return self._dm(content.member), views.reminder_message(content)
        raise TypeError(f"no message for {type(content).__name__}")

    def _dm(self, person: Person) -> str:
        """The DM channel (`D…`) with `person`: history and deletes need its id."""
        with self._lock:
            known = self._dm_channels.get(person.slack_id)
        if known:
            return known
        response = _call(self._client.conversations_open, users=person.slack_id)
        channel = str(response["channel"]["id"])
        with self._lock:
            self._dm_channels[person.slack_id] = channel
        return channel

    def _tagged(self, channel: str, key: str, since: datetime) -> list[str]:
        """The `ts` of every message tagged `key` since `since`, oldest first."""
        found: list[str] = []
        cursor = None
        for _ in range(HISTORY_PAGES):
            try:
                response = self._client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            except SlackApiError as error:
                failure = classify(error)
                if not failure.permanent:  # rate limited, Slack down: ask again later, never guess
                    raise failure from None
                self._warn_once(
                    f"history:{channel}",
                    "cannot read the history of %s (%s): a message retried after a crash could be posted twice",
                    channel,
                    failure.error,
                )
                return found
            except OSError as error:
                raise DeliveryFailed(f"connection error: {error}", permanent=False) from None
            messages: list[dict[str, Any]] = response.get("messages", [])
            found += [str(message["ts"]) for message in messages if views.key_in(message) == key]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                break
        return sorted(found, key=float)

    def _delete(self, channel: str, stamps: list[str]) -> None:
        """Best effort: a duplicate already gone (another instance deleted it) is fine, and
        a failed delete never turns a message that is in the channel into a failure."""
        for ts in stamps:
            log.warning("deleting a duplicate announcement in %s (ts %s)", channel, ts)
            try:
                _call(self._client.chat_delete, channel=channel, ts=ts)
            except DeliveryFailed as failure:
                if failure.error != "message_not_found":
                    log.error("could not delete the duplicate %s in %s: %s", ts, channel, failure.describe())

    def _set_group(self, content: GroupUpdate) -> Delivered:
        group = self._group_id(content)
        _call(self._client.usergroups_users_update, usergroup=group, users=",".join(p.slack_id for p in content.people))
        return Delivered(None, None)

    def _group_id(self, content: GroupUpdate) -> str:
        """The group's id: as written in team.yaml, or found by handle (created once if absent)."""
        handle = content.handle
        if handle.startswith("S") and handle.isupper():
            return handle
        with self._lock:
            known = self._group_ids.get(handle)
        if known:
            return known
        group = self._listed(handle) or self._created(content)
        if group.get("date_delete"):
            _call(self._client.usergroups_enable, usergroup=group["id"])
        with self._lock:
            self._group_ids[handle] = str(group["id"])
        return str(group["id"])

    def _listed(self, handle: str) -> dict[str, Any] | None:
        listed = _call(self._client.usergroups_list, include_disabled=True)
        groups: list[dict[str, Any]] = listed.get("usergroups", [])
        return next((group for group in groups if group.get("handle") == handle), None)

    def _created(self, content: GroupUpdate) -> dict[str, Any]:
        """Created once; another instance creating it at the same moment is no failure."""
        try:
            created: dict[str, Any] = _call(
                self._client.usergroups_create,
                name=f"{content.team_name} on call"[:80],
                handle=content.handle,
                description="Who is on call now, kept by the oncall bot",
            )["usergroup"]
            return created
        except DeliveryFailed as failure:
            found = self._listed(content.handle) if "already_exists" in failure.error else None
            if found is None:
                raise
            return found

    def _warn_once(self, topic: str, message: str, *args: object) -> None:
        with self._lock:
            if topic in self._warned:
                return
            self._warned.add(topic)
        log.warning(message, *args)


def _call(method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
    """One Web API call; every failure becomes a `DeliveryFailed` saying whether to retry."""
    try:
        return method(**kwargs)
    except SlackApiError as error:
        raise classify(error) from None
    except OSError as error:  # connection refused or reset, DNS, timeouts (urllib's are OSErrors)
        raise DeliveryFailed(f"connection error: {error}", permanent=False) from None


def classify(error: SlackApiError) -> DeliveryFailed:
    response = error.response
    code = str(response.get("error") or f"HTTP {response.status_code}")
    if response.status_code == 429 or code == "ratelimited":
        return DeliveryFailed(code, permanent=False, retry_after=_retry_after(response.headers))
    if response.status_code >= 500 or code in TRANSIENT:
        return DeliveryFailed(code, permanent=False)
    needed = f" (needs {response.get('needed')})" if response.get("needed") else ""
    return DeliveryFailed(code + needed, permanent=True, fix=FIXES.get(code, "Slack refused the message: see the log"))


def header(headers: dict[str, Any] | None, name: str) -> str | None:
    """A response header by name in any case (slack_sdk keeps the server's spelling), its
    first value when repeated."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return ",".join(value) if isinstance(value, list) else str(value)
    return None


def _retry_after(headers: dict[str, Any]) -> float:
    try:
        return max(1.0, float((header(headers, "Retry-After") or "1").split(",")[0]))
    except ValueError:
        return 1.0
