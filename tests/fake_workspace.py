"""Slack's memory for :class:`tests.slack_fake.FakeSlack` (``slack.workspace``): channel history with
metadata, topics, user groups, and Slack's refusals (per-channel and per-user errors, missing scopes,
no right to manage user groups, a posting rate limit).  Real clients call in from many threads at
once, so stored state is only touched under one lock; the public tables may be edited at any time.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import copy
import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["DEFAULT_SCOPES", "MAX_TOPIC_LENGTH", "Workspace", "dm_channel", "needed_scope"]

JsonDict = dict[str, Any]
#: FakeSlack's stateless answer for a method: ``builtin(method, params)``.
Builtin = Callable[[str, JsonDict], JsonDict]

#: What the bot's manifest asks for; sent as ``X-OAuth-Scopes`` on every Web API answer.
DEFAULT_SCOPES: frozenset[str] = frozenset(
    "app_mentions:read chat:write commands users:read users:read.email channels:history groups:history "  # noqa: SIM905
    "im:history mpim:history channels:read groups:read im:write usergroups:read usergroups:write "
    "channels:write.topic groups:write.topic".split()
)
MAX_TOPIC_LENGTH = 250
_NO_TOPIC: JsonDict = {"value": "", "creator": "", "last_set": 0}
_SCOPES = {"conversations.open": "im:write", "users.info": "users:read", "users.lookupByEmail": "users:read.email"}


def dm_channel(channel: str) -> str:
    """Posting to a user id lands in the DM with them, ``U123`` -> ``D123`` (as FakeSlack answers)."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def needed_scope(method: str, channel: str = "") -> str | None:
    """The bot scope ``method`` needs (on ``channel``: ``C...`` public, ``G...`` private, ``D...`` DM)."""
    if method == "conversations.history":
        return {"G": "groups:history", "D": "im:history"}.get(channel[:1], "channels:history")
    if method == "conversations.setTopic":
        return "groups:write.topic" if channel.startswith("G") else "channels:write.topic"
    if method.startswith("usergroups."):
        return "usergroups:read" if method.endswith(".list") else "usergroups:write"
    return "chat:write" if method.startswith("chat.") else _SCOPES.get(method)


def _error(code: str, **extra: Any) -> JsonDict:
    return {"ok": False, "error": code, **extra}


def _text(params: JsonDict, key: str) -> str:
    return "" if params.get(key) is None else str(params[key])


def _flag(params: JsonDict, key: str) -> bool:
    """Booleans arrive as ``1``/``true`` (query string, form) or as JSON ``true``."""
    return str(params.get(key, "")).lower() in ("1", "true")


def _ids(value: Any) -> list[str]:
    """``"U1,U2"`` or ``["U1", "U2"]`` -> ``["U1", "U2"]``, without repeats."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _ts_key(ts: str) -> Decimal:
    """Slack timestamps compare as decimals (``"1.10" > "1.9"``); ValueError if ``ts`` is none."""
    with contextlib.suppress(InvalidOperation):
        if (key := Decimal(ts)).is_finite():
            return key
    raise ValueError(f"not a Slack timestamp: {ts!r}")


def _metadata(value: Any) -> Any:
    """``metadata`` as a dict, from a JSON body (a dict) or a form body (a JSON string)."""
    with contextlib.suppress(ValueError):
        return json.loads(value) if isinstance(value, str) else value
    return value


def _cursor_ts(cursor: str) -> Decimal | None:
    """Slack's history cursors are base64 of ``next_ts:<ts>``; None if ``cursor`` is not one."""
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        prefix, _, ts = base64.b64decode(cursor, validate=True).decode().partition(":")
        return _ts_key(ts) if prefix == "next_ts" else None
    return None


class Workspace:
    """Stateful, thread-safe answers to the methods with a ``_<method>`` handler below (``chat.postMessage``
    -> ``_chat_postMessage``); FakeSlack's built-in answers for everything else."""

    def __init__(self, builtin: Builtin) -> None:
        self._builtin = builtin
        self._lock = threading.RLock()
        #: Granted scopes: sent as ``X-OAuth-Scopes``; a method needing another answers ``missing_scope``.
        self.scopes: set[str] = set(DEFAULT_SCOPES)
        #: channel id -> error (``channel_not_found``, ``not_in_channel``, ``is_archived``...) for
        #: posting, editing or reading history there, or setting its topic.
        self.channel_errors: dict[str, str] = {}
        #: user ids Slack does not know: posting to one, a DM with one, ``users.info`` answer ``user_not_found``.
        self.missing_users: set[str] = set()
        #: user id -> error for posting to them or opening a DM, e.g. ``account_inactive``.
        self.user_errors: dict[str, str] = {}
        #: email -> user id, for ``users.lookupByEmail`` (case-insensitive) and ``profile.email``.
        self.emails: dict[str, str] = {}
        #: An error for every ``conversations.history`` call, e.g. ``missing_scope``.
        self.history_error: str | None = None
        #: An error for every ``usergroups.*`` call: ``paid_teams_only``, ``permission_denied``...
        self.usergroups_refusal: str | None = None
        self._history: dict[str, list[JsonDict]] = {}
        self._topics: dict[str, JsonDict] = {}
        self._groups: dict[str, JsonDict] = {}
        self._group_numbers = itertools.count(1)
        self._post_rate: tuple[float, float] | None = None
        self._buckets: dict[str, tuple[float, float]] = {}

    def answer(self, method: str, params: JsonDict) -> JsonDict:
        """The answer to one call (FakeSlack calls this): from the stored state, or FakeSlack's own."""
        handler: Callable[[JsonDict], JsonDict] | None = getattr(self, "_" + method.replace(".", "_"), None)
        if "." not in method or handler is None:
            return self._builtin(method, params)
        with self._lock:
            refusal = self._refusal(method, params)
            return copy.deepcopy(refusal if refusal is not None else handler(params))

    def scope_header(self) -> str:
        """The ``X-OAuth-Scopes`` header: the granted scopes, comma-separated."""
        with self._lock:
            return ",".join(sorted(set(self.scopes)))

    def retry_after(self, method: str, params: JsonDict) -> int | None:
        """Seconds to wait if this call is over the rate limit (FakeSlack then answers 429), else None."""
        with self._lock:
            if method != "chat.postMessage" or self._post_rate is None:
                return None
            rate, burst = self._post_rate
            channel, now = dm_channel(_text(params, "channel")), time.monotonic()
            tokens, then = self._buckets.get(channel, (burst, now))
            tokens = min(burst, tokens + (now - then) * rate)
            self._buckets[channel] = (tokens - 1 if tokens >= 1 else tokens, now)
            return None if tokens >= 1 else max(1, math.ceil((1 - tokens) / rate))

    def rate_limit_posts(self, per_second: float | None = 1.0, burst: int = 3) -> None:
        """Limit ``chat.postMessage`` per channel like Slack (a token bucket, real time): ``burst`` posts at
        once, then ``per_second``; beyond, HTTP 429 with ``Retry-After`` (whole seconds, >= 1), not stored.
        ``per_second=None`` turns the limit off again (the default)."""
        if per_second is not None and (per_second <= 0 or burst < 1):
            raise ValueError("per_second must be > 0 and burst >= 1")
        with self._lock:
            self._post_rate = None if per_second is None else (float(per_second), float(burst))
            self._buckets.clear()

    def messages(self, channel: str) -> list[JsonDict]:
        """Copies of the messages in ``channel`` (a user id: the DM), oldest first, replies and metadata too."""
        with self._lock:
            return copy.deepcopy(self._history.get(dm_channel(channel), []))

    def messages_with_metadata_key(self, key: str, *, event_type: str | None = None) -> list[tuple[str, JsonDict]]:
        """``(channel, message)``, oldest first, for each stored message in any channel whose
        ``metadata.event_payload.key`` is ``key`` (and ``metadata.event_type`` is ``event_type``, if given)."""

        def wanted(md: Any) -> bool:
            payload = md.get("event_payload") if isinstance(md, dict) else None
            return (
                isinstance(payload, dict) and payload.get("key") == key and event_type in (None, md.get("event_type"))
            )

        with self._lock:
            found = [(c, m) for c, history in self._history.items() for m in history if wanted(m.get("metadata"))]
            return copy.deepcopy(sorted(found, key=lambda item: _ts_key(item[1]["ts"])))

    def add_message(self, channel: str, text: str = "", *, user: str | None = None, **fields: Any) -> JsonDict:
        """Store a message as if posted before, by the bot or else by ``user``; returns a copy.  ``fields``:
        ``chat.postMessage`` arguments (``metadata=``...) and ``ts=``, by default FakeSlack's next one."""
        ts = fields.pop("ts", None)
        with self._lock:
            message = self._builtin("chat.postMessage", {"channel": channel, "text": text, **fields})["message"]
            message["ts"] = message["ts"] if ts is None else ts  # a malformed one: ValueError below
            if user is not None:
                message = {k: v for k, v in message.items() if k not in ("bot_id", "app_id")} | {"user": user}
            self._store(dm_channel(channel), message)
            return copy.deepcopy(message)

    def topic(self, channel: str) -> str:
        """The topic last set on ``channel`` (``""`` if none)."""
        with self._lock:
            return str(self._topics.get(channel, _NO_TOPIC)["value"])

    def usergroup_members(self, handle_or_id: str) -> list[str]:
        """The user ids in a user group, by ``S...`` id or handle; KeyError if there is none."""
        with self._lock:
            found = [g for g in self._groups.values() if handle_or_id in (g["id"], g["handle"])]
            if not found:
                raise KeyError(f"no user group {handle_or_id!r}; there are {sorted(self._groups)}")
            return list(found[0]["users"])

    def _refusal(self, method: str, params: JsonDict) -> JsonDict | None:
        needed = needed_scope(method, _text(params, "channel"))
        if method == "conversations.history" and self.history_error is not None:
            return self._fail(self.history_error, needed)
        if method.startswith("usergroups.") and self.usergroups_refusal is not None:
            return self._fail(self.usergroups_refusal, needed)
        return self._fail("missing_scope", needed) if needed is not None and needed not in self.scopes else None

    def _fail(self, code: str, needed: str | None) -> JsonDict:
        if code != "missing_scope":
            return _error(code)
        return _error(code, needed=needed or "", provided=",".join(sorted(set(self.scopes))))

    def _channel_error(self, channel: str) -> str | None:
        return self.channel_errors.get(channel) or self.channel_errors.get(dm_channel(channel))

    def _user_error(self, user_id: str) -> str | None:
        return "user_not_found" if user_id in self.missing_users else self.user_errors.get(user_id)

    def _store(self, channel: str, message: JsonDict) -> None:
        if "metadata" in message:
            message["metadata"] = _metadata(message["metadata"])
        bisect.insort(self._history.setdefault(channel, []), message, key=lambda m: _ts_key(m["ts"]))

    def _chat_postMessage(self, params: JsonDict) -> JsonDict:
        channel = _text(params, "channel")
        error = (self._user_error(channel) if channel[:1] in ("U", "W") else None) or self._channel_error(channel)
        if error is not None:
            return _error(error)
        answer = self._builtin("chat.postMessage", params)
        self._store(str(answer["channel"]), answer["message"])
        return answer

    def _own_message(self, params: JsonDict, verb: str) -> tuple[str, JsonDict | None, JsonDict]:
        channel, ts = dm_channel(_text(params, "channel")), _text(params, "ts")
        message = next((m for m in self._history.get(channel, []) if m["ts"] == ts), None)
        error = self._channel_error(channel) or ("message_not_found" if message is None else None)
        error = error or (None if "bot_id" in (message or {}) else f"cant_{verb}_message")  # only its own
        return (channel, None, _error(error)) if error is not None else (channel, message, {})

    def _chat_update(self, params: JsonDict) -> JsonDict:
        channel, message, error = self._own_message(params, "update")
        if message is None:
            return error
        fresh = self._builtin("chat.update", params)["message"]
        for key in ("text", "blocks", "attachments", "metadata"):  # those left out stay as they were
            if key in params:
                message[key] = _metadata(fresh.get(key)) if key == "metadata" else fresh.get(key, params[key])
            if key != "text" and key in message and not message[key]:  # an empty list removes them
                del message[key]
        message["edited"] = {"user": message.get("user"), "ts": f"{time.time():.6f}"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"], "message": message}

    def _chat_delete(self, params: JsonDict) -> JsonDict:
        channel, message, error = self._own_message(params, "delete")
        if message is None:
            return error
        self._history[channel] = [m for m in self._history[channel] if m is not message]
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _conversations_history(self, params: JsonDict) -> JsonDict:
        """Newest first, without thread replies; ``oldest``/``latest`` exclusive unless ``inclusive``;
        paged by ``limit`` and ``cursor``; ``metadata`` only with ``include_all_metadata``."""
        channel, cursor = _text(params, "channel"), _text(params, "cursor")
        if (error := self._channel_error(channel)) is not None:
            return _error(error)
        bounds: dict[str, Decimal] = {"oldest": Decimal(0), "latest": Decimal("Infinity")}
        for name in [n for n in bounds if _text(params, n)]:
            try:
                bounds[name] = _ts_key(_text(params, name))
            except ValueError:
                return _error(f"invalid_ts_{name}")
        if (start := _cursor_ts(cursor) if cursor else bounds["latest"]) is None:
            return _error("invalid_cursor")
        oldest, latest, inclusive = bounds["oldest"], bounds["latest"], _flag(params, "inclusive")

        def wanted(message: JsonDict) -> bool:
            ts = _ts_key(message["ts"])
            within = oldest <= ts <= latest if inclusive else oldest < ts < latest
            return within and ts <= start and message.get("thread_ts") in (None, message["ts"])

        found = [m for m in reversed(self._history.get(channel, [])) if wanted(m)]
        limit = min(max(int(_text(params, "limit") or 100), 1), 999)
        page, rest = found[:limit], found[limit:]
        with_metadata = _flag(params, "include_all_metadata")
        shown = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        answer: JsonDict = {"ok": True, "messages": shown, "has_more": bool(rest), "pin_count": 0}
        if rest:
            next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode()
            answer["response_metadata"] = {"next_cursor": next_cursor}
        return answer

    def _conversations_setTopic(self, params: JsonDict) -> JsonDict:
        channel, topic = _text(params, "channel"), _text(params, "topic")
        if (error := self._channel_error(channel)) is not None or len(topic) > MAX_TOPIC_LENGTH:
            return _error(error or "too_long")
        creator = self._builtin("auth.test", {})["user_id"]
        self._topics[channel] = {"value": topic, "creator": creator, "last_set": int(time.time())}
        return self._conversations_info({"channel": channel})

    def _conversations_info(self, params: JsonDict) -> JsonDict:
        channel = _text(params, "channel")
        if (error := self._channel_error(channel)) == "channel_not_found":
            return _error(error)
        info: JsonDict = self._builtin("conversations.info", {"channel": channel})["channel"]
        info.update(is_archived=error == "is_archived", is_member=error != "not_in_channel")
        info.update(topic=self._topics.get(channel, dict(_NO_TOPIC)), purpose=dict(_NO_TOPIC))
        return {"ok": True, "channel": info}

    def _conversations_open(self, params: JsonDict) -> JsonDict:
        errors = [e for e in map(self._user_error, _ids(params.get("users"))) if e is not None]
        return _error(errors[0]) if errors else self._builtin("conversations.open", params)

    def _users_info(self, params: JsonDict) -> JsonDict:
        if (user_id := _text(params, "user")) in self.missing_users:
            return _error("user_not_found")
        user: JsonDict = self._builtin("users.info", {"user": user_id})["user"]
        if (email := next((e for e, u in list(self.emails.items()) if u == user_id), None)) is not None:
            user.setdefault("profile", {})["email"] = email
        user["deleted"] = self.user_errors.get(user_id) == "account_inactive"
        return {"ok": True, "user": user}

    def _users_lookupByEmail(self, params: JsonDict) -> JsonDict:
        wanted = _text(params, "email").strip().lower()
        user_id = next((u for e, u in list(self.emails.items()) if e.lower() == wanted), None)
        if user_id is None or user_id in self.missing_users:
            return _error("users_not_found")
        return self._users_info({"user": user_id})

    def _clash(self, name: str, handle: str, group: JsonDict | None = None) -> JsonDict | None:
        for field, value in (("name", name), ("handle", handle)):
            if value and any(g[field].lower() == value.lower() for g in self._groups.values() if g is not group):
                return _error(f"{field}_already_exists")
        return None

    def _new_group(self, name: str, handle: str, description: str, channels: list[str], users: list[str]) -> JsonDict:
        me, now = self._builtin("auth.test", {}), int(time.time())
        group: JsonDict = {"id": f"S0GROUP{next(self._group_numbers):03d}", "team_id": me["team_id"]}
        group.update(is_usergroup=True, is_subteam=True, name=name, description=description, handle=handle)
        group.update(is_external=False, date_create=now, date_update=now, date_delete=0, auto_type=None)
        group.update(created_by=me["user_id"], updated_by=me["user_id"], deleted_by=None)
        group.update(prefs={"channels": channels, "groups": []}, users=users)
        self._groups[group["id"]] = group
        return group

    def _shown(self, group: JsonDict, *, with_users: bool = True) -> JsonDict:
        shown = {k: v for k, v in group.items() if with_users or k != "users"}
        return shown | {"user_count": len(group["users"]), "channel_count": len(group["prefs"]["channels"])}

    def _group(self, params: JsonDict) -> tuple[JsonDict | None, JsonDict]:
        group = self._groups.get(_text(params, "usergroup"))
        return (group, {}) if group is not None else (None, _error("no_such_subteam"))

    def _touched(self, group: JsonDict) -> JsonDict:
        group.update(date_update=int(time.time()), updated_by=self._builtin("auth.test", {})["user_id"])
        return {"ok": True, "usergroup": self._shown(group)}

    def _usergroups_list(self, params: JsonDict) -> JsonDict:
        with_users = _flag(params, "include_users")
        return {"ok": True, "usergroups": [self._shown(g, with_users=with_users) for g in self._groups.values()]}

    def _usergroups_create(self, params: JsonDict) -> JsonDict:
        name, handle = _text(params, "name").strip(), _text(params, "handle").strip()
        if (refusal := self._clash(name, handle) if name else _error("invalid_name")) is not None:
            return refusal
        group = self._new_group(name, handle, _text(params, "description"), _ids(params.get("channels")), [])
        return {"ok": True, "usergroup": self._shown(group)}

    def _usergroups_update(self, params: JsonDict) -> JsonDict:
        group, error = self._group(params)
        if group is None:
            return error
        name, handle = _text(params, "name").strip(), _text(params, "handle").strip()
        if (refusal := self._clash(name, handle, group)) is not None:
            return refusal
        group.update({k: v for k, v in (("name", name), ("handle", handle)) if v})
        if "description" in params:
            group["description"] = _text(params, "description")
        if "channels" in params:
            group["prefs"]["channels"] = _ids(params["channels"])
        return self._touched(group)

    def _usergroups_users_list(self, params: JsonDict) -> JsonDict:
        group, error = self._group(params)
        return error if group is None else {"ok": True, "users": list(group["users"])}

    def _usergroups_users_update(self, params: JsonDict) -> JsonDict:
        (group, error), users = self._group(params), _ids(params.get("users"))
        if group is None:
            return error
        if not users or any(u in self.missing_users for u in users):  # emptying is usergroups.disable's job
            return _error("invalid_users" if users else "no_users_provided")
        group["users"] = users
        return self._touched(group)
