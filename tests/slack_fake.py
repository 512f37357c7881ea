"""A local fake of Slack for tests, plus builders for the exact HTTP requests Slack sends.

Why this exists: the bot's bugs tend to live at the edges -- form-encoded bodies whose
``blocks`` are JSON strings, ``payload=`` wrappers, signatures, ``response_url`` posts,
rate limits, listeners that run *after* the HTTP ack.  Mocking ``WebClient`` methods
hides all of that, so instead the tests talk real HTTP in both directions:

* :class:`FakeSlack` is a tiny Web API server.  Point a real ``slack_sdk.WebClient`` at
  ``FakeSlack.api_url`` and every call is recorded, answered with a response shaped like
  Slack's, and can be made to fail (429s, errors, dropped connections).
* The builder functions (:func:`slash_command`, :func:`click_button`, :func:`submit_view`,
  :func:`event_callback`, ...) produce byte-for-byte the bodies Slack posts to the bot,
  and :func:`sign` / :func:`post` deliver them signed, so the bot's signature checking
  and body parsing are exercised exactly as in production.

Everything binds to 127.0.0.1 on port 0 so parallel test runs never collide.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from zoneinfo import ZoneInfo

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from tests.fake_workspace import Workspace

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "DEFAULT_TIMEZONE",
    "KNOWN_USERS",
    "SIGNING_SECRET",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "VERIFICATION_TOKEN",
    "FakeSlack",
    "FakeSocketMode",
    "RecordedCall",
    "app_mention",
    "block_actions",
    "bolt_request",
    "click_button",
    "event_callback",
    "message_event",
    "parse_payload",
    "post",
    "sign",
    "signed",
    "slash_command",
    "submit_view",
    "url_verification",
    "view_submission",
]

JsonDict = dict[str, Any]
#: A canned answer: a fixed body, or a function of the request (e.g. to echo a field back).
Responder = JsonDict | Callable[["RecordedCall"], JsonDict]

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
#: The deprecated per-app verification token Slack still puts in every payload's ``token``.
VERIFICATION_TOKEN = "legacy-verification-token"
TEAM_ID = "T0001"
TEAM_DOMAIN = "data-team"
APP_ID = "A0ONCALL"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
DEFAULT_TIMEZONE = "America/New_York"
#: user id -> Slack handle; used for ``user_name``/``username`` defaults and ``users.info``.
KNOWN_USERS: Mapping[str, str] = {
    "U0A11CE": "alice",
    "U0B0B": "bob",
    "U0CA401": "carol",
    BOT_USER_ID: "oncall",
}

_FIRST_TS_SECONDS = 1_700_000_000
_SLACKBOT_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def _compact(data: Any) -> str:
    """Serialise like Slack does (no whitespace), so bodies match the wire byte for byte."""
    return json.dumps(data, separators=(",", ":"))


def _canonical_header(name: str) -> str:
    """``content-type`` / ``Content-type`` -> ``Content-Type``: urllib capitalises oddly."""
    return "-".join(part.capitalize() for part in name.split("-"))


def _maybe_json(value: str) -> Any:
    """Decode form values that carry JSON (``blocks``, ``view``, ``attachments``...)."""
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _username(user_id: str, username: str | None) -> str:
    return username if username is not None else KNOWN_USERS.get(user_id, user_id.lower())


def _trigger_id() -> str:
    """Slack trigger ids look like ``<seconds>.<team number>.<32 hex>``; only uniqueness matters."""
    return f"{int(time.time())}.1234567890.{uuid.uuid4().hex}"


def _now_ts() -> str:
    """A fresh Slack-style ``"seconds.micros"`` timestamp for messages the *user* sends."""
    return f"{time.time():.6f}"


# --------------------------------------------------------------------------------------
# The fake Web API server
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedCall:
    """One HTTP request that reached :class:`FakeSlack`.

    ``method`` is the Web API method (``"chat.postMessage"``) or ``"response/<name>"`` for
    ``response_url`` posts.  ``body`` merges query-string and body parameters, with JSON
    form values (``blocks``, ``view``...) already decoded.  ``headers`` keys are in
    canonical ``Title-Case`` (use :meth:`header` for case-insensitive lookup).
    ``response`` / ``status`` are what the fake answered (``status`` 0 = connection dropped).
    """

    method: str
    body: JsonDict
    headers: dict[str, str]
    raw_body: str = ""
    path: str = ""
    status: int = 200
    response: JsonDict = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup, since HTTP header names are case-insensitive."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def token(self) -> str | None:
        """The bearer token the client authenticated with, if any."""
        auth = self.header("Authorization")
        if auth is None or not auth.startswith("Bearer "):
            return None
        return auth.removeprefix("Bearer ")

    def describe(self) -> str:
        """A one-line summary for assertion messages."""
        body = _compact(self.body)
        if len(body) > 300:
            body = body[:300] + "..."
        return f"{self.method} -> {self.status} {body}"


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: JsonDict
    remaining: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the owning :class:`FakeSlack`; HTTP/1.0 so each call closes."""

    server: _Server

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request stderr logging; the recorded calls are the log."""


class FakeSlack:
    """A local Slack Web API (plus ``response_url`` endpoint) that records every request.

    Use as ``with FakeSlack() as slack:`` or with :meth:`start` / :meth:`stop`.  The public
    tables (:attr:`user_timezones`, :attr:`user_names`, :attr:`channel_names`) may be
    edited at any time; they are read when a request arrives.
    """

    def __init__(self, *, user_timezones: Mapping[str, str] | None = None) -> None:
        #: user id -> IANA zone served by ``users.info``; missing users get :attr:`default_timezone`.
        self.user_timezones: dict[str, str] = dict(user_timezones or {})
        self.default_timezone: str = DEFAULT_TIMEZONE
        self.user_names: dict[str, str] = dict(KNOWN_USERS)
        self.channel_names: dict[str, str] = {"C0TEAM": "data-oncall"}
        #: What ``apps.connections.open`` hands out: a :class:`FakeSocketMode` URL.
        self.socket_mode_url: str | None = None
        self._cond = threading.Condition()
        self._calls: list[RecordedCall] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._overrides: dict[str, Responder] = {}
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        #: Slack's memory and refusals: history, topics, user groups, scopes, rate limits (see tests/fake_workspace.py).
        self.workspace = Workspace(self._builtin)
        #: Where message timestamps start: Slack stamps with its own clock, so a test on a
        #: pinned clock sets this near it (a bot looking up history with ``oldest=`` needs it).
        self.first_ts_seconds: int = _FIRST_TS_SECONDS
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Bind an ephemeral port and serve from a daemon thread (idempotent)."""
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.fake = self
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; use start() or a with-block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Pass as ``WebClient(base_url=...)``; the trailing slash matters to slack_sdk."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` whose posts are recorded as method ``"response/<name>"``."""
        return f"{self.base_url}/response/{name}"

    # ---- inspection ------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """A snapshot copy of every recorded call, oldest first."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def last(self, method: str) -> RecordedCall:
        """The most recent call to ``method``; AssertionError (listing all calls) if none."""
        found = self.calls_to(method)
        if not found:
            raise AssertionError(f"no call to {method!r}; calls so far:\n{self._describe_calls()}")
        return found[-1]

    def clear(self) -> None:
        """Forget recorded calls (failure injections and overrides are kept)."""
        with self._cond:
            self._calls.clear()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 30.0,
        *,
        where: Callable[[RecordedCall], bool] | None = None,
    ) -> list[RecordedCall]:
        """Block until at least ``count`` matching calls arrived; return all matching calls.

        Needed because Bolt acks the HTTP request first and runs listeners in a thread pool,
        so side effects land after ``post()`` returns. The generous default is patience,
        not a deadline: a re-plan on a loaded CI machine can take several seconds.
        """

        def matching() -> list[RecordedCall]:
            return [c for c in self._calls if c.method == method and (where is None or where(c))]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                return matching()
            got = len(matching())
        condition = " matching `where`" if where is not None else ""
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} call(s) to {method!r}{condition}; "
            f"got {got}. Calls so far:\n{self._describe_calls()}"
        )

    def assert_no_call(
        self, method: str, *, wait: float = 0.3, where: Callable[[RecordedCall], bool] | None = None
    ) -> None:
        """Assert nothing calls ``method`` within ``wait`` seconds (listeners run late)."""
        try:
            found = self.wait_for(method, timeout=wait, where=where)
        except AssertionError:
            return
        raise AssertionError(f"unexpected call(s) to {method!r}: {[c.describe() for c in found]}")

    def assert_no_leak(self, secret: str) -> None:
        """Assert ``secret`` appears nowhere but an ``Authorization`` header.

        Tokens legitimately travel only as ``Authorization: Bearer``; finding one in a
        message body, a query string or another header means the bot leaked it.
        """
        leaks = []
        for call in self.calls:
            places = [("path", call.path), ("body", call.raw_body)]
            places += [(f"header {k}", v) for k, v in call.headers.items() if k != "Authorization"]
            leaks += [f"{call.method}: {where}" for where, text in places if secret in text]
        if leaks:
            raise AssertionError(f"secret leaked in: {leaks}")

    def _describe_calls(self) -> str:
        with self._cond:
            calls = list(self._calls)
        return "\n".join(f"  {i}. {c.describe()}" for i, c in enumerate(calls, 1)) or "  (none)"

    # ---- behaviour control -----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        headers: Mapping[str, str] | None = None,
        body: JsonDict | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (they are still recorded).

        Defaults model Slack's rate limit.  For an API-level error use e.g.
        ``fail_next("chat.postMessage", status=200, headers={}, body={"ok": False,
        "error": "channel_not_found"})``.  ``status=0`` drops the connection without a
        response, to exercise connection-error retry handling.
        """
        failure = _Failure(
            status=status,
            headers=dict(headers) if headers is not None else {"Retry-After": "1"},
            body=dict(body) if body is not None else {"ok": False, "error": "ratelimited"},
            remaining=times,
        )
        with self._cond:
            self._failures.setdefault(method, []).append(failure)

    def set_response(self, method: str, body: Responder | None) -> None:
        """Replace the canned answer for ``method`` (a dict, or a function of the call).

        ``None`` restores the built-in answer.
        """
        with self._cond:
            if body is None:
                self._overrides.pop(method, None)
            else:
                self._overrides[method] = body

    # ---- request handling ------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        if split.path.startswith("/api/"):
            method, known = split.path.removeprefix("/api/"), True
        elif split.path.startswith("/response/"):
            method, known = split.path.lstrip("/"), True
        else:
            method, known = split.path.lstrip("/"), False
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        headers = {_canonical_header(k): v for k, v in handler.headers.items()}
        params: JsonDict = {k: _maybe_json(v) for k, v in urllib.parse.parse_qsl(split.query)}
        params.update(self._parse_body(raw, headers.get("Content-Type", "")))

        status, extra_headers = 200, {}
        with self._cond:
            failure = self._take_failure(method)
            override = self._overrides.get(method)
        pending = RecordedCall(method=method, body=params, headers=headers, raw_body=raw, path=handler.path)
        if failure is not None:
            status, extra_headers, answer = failure.status, failure.headers, failure.body
        elif not known:
            status, answer = 404, {"ok": False, "error": "unknown_path"}
        elif (retry_after := self.workspace.retry_after(method, params)) is not None:
            status, extra_headers = 429, {"Retry-After": str(retry_after)}
            answer = {"ok": False, "error": "ratelimited"}
        else:
            try:
                if override is None:
                    answer = self._canned(method, params)
                else:
                    answer = override(pending) if callable(override) else copy.deepcopy(override)
            except Exception as exc:  # a bug in the fake must be visible, not a hang
                status, answer = 500, {"ok": False, "error": "fake_slack_crashed", "detail": repr(exc)}

        recorded = RecordedCall(
            method=method,
            body=params,
            headers=headers,
            raw_body=raw,
            path=handler.path,
            status=status,
            response=answer,
        )
        # Record before answering, so a client that got its response always sees its call.
        with self._cond:
            self._calls.append(recorded)
            self._cond.notify_all()

        if status == 0:
            handler.close_connection = True
            return
        payload = json.dumps(answer).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        if split.path.startswith("/api/") and "X-OAuth-Scopes" not in extra_headers:
            handler.send_header("X-OAuth-Scopes", self.workspace.scope_header())
        for name, value in extra_headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    @staticmethod
    def _parse_body(raw: str, content_type: str) -> JsonDict:
        if not raw:
            return {}
        if content_type.startswith("application/json") or raw.lstrip().startswith("{"):
            try:
                decoded = json.loads(raw)
            except ValueError:
                return {"_raw": raw}
            return decoded if isinstance(decoded, dict) else {"_json": decoded}
        if content_type.startswith("multipart/"):
            return {"_raw": raw}  # file uploads: inspect raw_body if ever needed
        return {k: _maybe_json(v) for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True)}

    # ---- canned answers --------------------------------------------------------------

    def _next_ts(self) -> str:
        n = next(self._ts_counter) * 100
        return f"{self.first_ts_seconds + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}0FAKE{next(self._id_counter):04d}"

    @staticmethod
    def _dm_channel(channel: str) -> str:
        """Posting to a user id lands in a DM, and Slack answers with the ``D...`` channel id."""
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _message(self, params: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": params.get("text", ""),
            "team": TEAM_ID,
        }
        if isinstance(params.get("blocks"), list):
            message["blocks"] = _with_block_ids(params["blocks"])
        for key in ("thread_ts", "metadata", "attachments"):
            if key in params:
                message[key] = params[key]
        return message

    def _user(self, user_id: str) -> JsonDict:
        tz_name = self.user_timezones.get(user_id, self.default_timezone)
        now = datetime.now(ZoneInfo(tz_name))
        offset = now.utcoffset()
        name = self.user_names.get(user_id, user_id.lower())
        real_name = name.capitalize()
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": tz_name,
            "tz_label": now.tzname() or tz_name,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": user_id == BOT_USER_ID,
            "is_admin": False,
            "profile": {"real_name": real_name, "display_name": name, "team": TEAM_ID},
        }

    def _view(self, params: JsonDict, method: str) -> JsonDict:
        requested = params.get("view")
        view: JsonDict = dict(requested) if isinstance(requested, dict) else {}
        view_id = params.get("view_id") if method == "views.update" else None
        view_id = view_id or self._next_id("V")
        view.setdefault("type", "home" if method == "views.publish" else "modal")
        view.setdefault("blocks", [])
        view["blocks"] = _with_block_ids(view["blocks"])
        view.update(
            id=view_id,
            team_id=TEAM_ID,
            private_metadata=view.get("private_metadata", ""),
            callback_id=view.get("callback_id", ""),
            external_id=view.get("external_id", ""),
            state={"values": {}},
            hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            clear_on_close=view.get("clear_on_close", False),
            notify_on_close=view.get("notify_on_close", False),
            previous_view_id=None,
            root_view_id=view_id,
            app_id=APP_ID,
            app_installed_team_id=TEAM_ID,
            bot_id=BOT_ID,
        )
        return view

    def _canned(self, method: str, params: JsonDict) -> JsonDict:
        """Slack's answer: from :attr:`workspace` for the stateful methods, else :meth:`_builtin`."""
        return self.workspace.answer(method, params)

    def _builtin(self, method: str, params: JsonDict) -> JsonDict:
        """Success answers shaped like Slack's own (only the fields code commonly reads)."""
        channel = str(params.get("channel", ""))
        if method.startswith("response/"):
            return {"ok": True}
        if method == "auth.test":
            return {
                "ok": True,
                "url": f"https://{TEAM_DOMAIN}.slack.com/",
                "team": "Data Team",
                "user": "oncall",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            if self.socket_mode_url is None:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": self.socket_mode_url}
        if method == "chat.postMessage":
            ts = self._next_ts()
            return {
                "ok": True,
                "channel": self._dm_channel(channel),
                "ts": ts,
                "message": self._message(params, ts),
            }
        if method == "chat.update":
            ts = str(params.get("ts", ""))
            message = self._message(params, ts)
            return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.delete":
            return {"ok": True, "channel": channel, "ts": params.get("ts", "")}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "users.info":
            return {"ok": True, "user": self._user(str(params.get("user", "")))}
        if method == "conversations.info":
            is_im = channel.startswith("D")
            return {
                "ok": True,
                "channel": {
                    "id": channel,
                    "name": self.channel_names.get(channel, channel.lower()),
                    "is_channel": not is_im,
                    "is_group": False,
                    "is_im": is_im,
                    "is_private": False,
                    "is_archived": False,
                    "is_member": True,
                    "context_team_id": TEAM_ID,
                },
            }
        if method == "conversations.open":
            users = str(params.get("users", "")).split(",")
            return {
                "ok": True,
                "channel": {"id": self._dm_channel(users[0]) if len(users) == 1 else "G0MPDM"},
            }
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            return {"ok": True, "view": self._view(params, method)}
        return {"ok": True}


class FakeSocketMode:
    """Slack's Socket Mode WebSocket server, for one client at a time.

    Set ``slack.socket_mode_url = socket_mode.url`` so ``apps.connections.open`` hands it
    out. :meth:`send` delivers an envelope the way Slack does
    (``{"envelope_id", "type", "payload", "accepts_response_payload"}``) and returns the
    client's acknowledgement (``{"envelope_id", "payload"?}``).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._connection: Any = None
        self._acks: dict[str, JsonDict] = {}
        self._server: Any = None
        self.connections = 0

    def start(self) -> Self:
        from websockets.sync.server import serve

        self._server = serve(self._serve, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id={APP_ID}"

    def _serve(self, connection: Any) -> None:
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        connection.send(_compact(hello))
        with self._cond:
            self._connection = connection
            self.connections += 1
            self._cond.notify_all()
        from websockets.exceptions import ConnectionClosed

        try:
            for message in connection:
                ack = json.loads(message)
                with self._cond:
                    self._acks[ack.get("envelope_id", "")] = ack
                    self._cond.notify_all()
        except ConnectionClosed:  # the client went away without a close frame: its choice
            pass

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connection is not None, timeout=timeout):
                raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    def send(self, kind: str, payload: JsonDict, timeout: float = 10.0) -> JsonDict:
        """Deliver one envelope (``kind``: ``slash_commands``, ``interactive``,
        ``events_api``) and wait for its ack."""
        self.wait_connected(timeout)
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        with self._cond:
            connection = self._connection
        connection.send(_compact(envelope))
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(f"envelope {envelope_id} ({kind}) was not acknowledged within {timeout}s")
            return self._acks[envelope_id]


# --------------------------------------------------------------------------------------
# Requests Slack sends to the bot
# --------------------------------------------------------------------------------------


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with ``body``: signature, timestamp and matching Content-Type.

    Uses slack_sdk's own signer so a mismatch can only come from the bot under test.
    Pass an old ``timestamp`` to test replay rejection (Bolt allows 5 minutes).
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    if signature is None:  # only happens for a None timestamp, which we never pass
        raise AssertionError("slack_sdk refused to sign")
    is_json = body.lstrip().startswith("{")
    return {
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
        "User-Agent": _SLACKBOT_USER_AGENT,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def signed(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> tuple[str, dict[str, str]]:
    """``(body, headers)`` ready for :func:`post`: ``post(url, *signed(slash_command(...)))``."""
    return body, sign(body, secret, timestamp)


def bolt_request(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> BoltRequest:
    """A signed request for ``app.dispatch(...)``: exercises Bolt's verification and parsing
    without an HTTP server, when the test is about a listener rather than the adapter."""
    headers: dict[str, str | Sequence[str]] = dict(sign(body, secret, timestamp))
    return BoltRequest(body=body, headers=headers)


def post(
    url: str, body: str, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], str]:
    """POST to the bot and return ``(status, headers, text)`` -- never raising on 4xx/5xx.

    Tests assert on rejections (401 for bad signatures) as much as on successes.  With
    ``headers=None`` the body is signed with :data:`SIGNING_SECRET` at the current time.
    """
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        headers=dict(headers) if headers is not None else sign(body),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read().decode("utf-8")


def _form(fields: Sequence[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(list(fields))


def _payload_form(payload: JsonDict) -> str:
    """Interactivity bodies are ``payload=<url-encoded compact JSON>``."""
    return _form([("payload", _compact(payload))])


def slash_command(
    command: str,
    text: str,
    *,
    user_id: str = "U0A11CE",
    user_name: str | None = None,
    channel_id: str = "C0TEAM",
    channel_name: str = "data-oncall",
    response_url: str,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
) -> str:
    """The form body of a slash command, fields in the order Slack sends them.

    ``user_name`` defaults to the handle of ``user_id`` in :data:`KNOWN_USERS`.
    """
    if not command.startswith("/"):
        raise ValueError(f"slash commands start with '/': {command!r}")
    return _form(
        [
            ("token", VERIFICATION_TOKEN),
            ("team_id", team_id),
            ("team_domain", team_domain),
            ("channel_id", channel_id),
            ("channel_name", channel_name),
            ("user_id", user_id),
            ("user_name", _username(user_id, user_name)),
            ("command", command),
            ("text", text),
            ("api_app_id", api_app_id),
            ("is_enterprise_install", "false"),
            ("response_url", response_url),
            ("trigger_id", trigger_id or _trigger_id()),
        ]
    )


def _auto_block_id(index: int, block: Mapping[str, Any]) -> str:
    """Slack assigns a block_id to blocks posted without one; make ours deterministic so the
    ids in ``chat.postMessage`` answers and in :func:`click_button` payloads agree."""
    digest = hashlib.sha1(f"{index}:{_compact(block)}".encode()).digest()
    return base64.b64encode(digest, altchars=b"Ab").decode()[:5]


def _with_block_ids(blocks: Sequence[Any]) -> list[Any]:
    """A deep copy of ``blocks`` with Slack's auto-generated ``block_id``s filled in."""
    result = []
    for index, block in enumerate(blocks):
        if isinstance(block, dict):
            block = copy.deepcopy(block)
            block.setdefault("block_id", _auto_block_id(index, block))
        result.append(block)
    return result


def _user_object(user_id: str, username: str | None, team_id: str) -> JsonDict:
    name = _username(user_id, username)
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _block_actions_payload(
    *,
    user_id: str,
    username: str | None,
    action: JsonDict,
    message_blocks: Sequence[Any],
    message_text: str,
    channel_id: str,
    channel_name: str | None,
    message_ts: str,
    thread_ts: str | None,
    is_ephemeral: bool,
    response_url: str,
    team_id: str,
) -> JsonDict:
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user_object(user_id, username, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name or _channel_name(channel_id)},
    }
    if not is_ephemeral:  # Slack omits the message for clicks in ephemeral messages
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "ts": message_ts,
            "text": message_text,
            "team": team_id,
            "blocks": _with_block_ids(message_blocks),
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        payload["message"] = message
    payload["state"] = {"values": {}}
    payload["response_url"] = response_url
    payload["actions"] = [action]
    return payload


def _channel_name(channel_id: str) -> str:
    return "directmessage" if channel_id.startswith("D") else {"C0TEAM": "data-oncall"}.get(channel_id, channel_id)


def _button_action(*, action_id: str, block_id: str, text: str, value: str | None, style: str | None) -> JsonDict:
    action: JsonDict = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
    }
    if value is not None:  # Slack omits ``value`` for buttons posted without one
        action["value"] = value
    if style is not None:
        action["style"] = style
    action["action_ts"] = _now_ts()
    return action


def block_actions(
    *,
    user_id: str,
    action_id: str,
    value: str | None,
    block_id: str,
    message_blocks: Sequence[Any],
    channel_id: str = "C0TEAM",
    channel_name: str | None = None,
    message_ts: str = "1700000000.000100",
    message_text: str = "",
    response_url: str,
    username: str | None = None,
    button_text: str = "Button",
    style: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    team_id: str = TEAM_ID,
) -> str:
    """The ``payload=`` form body for a button click.  Prefer :func:`click_button`, which
    takes ``block_id``/``value`` from what the bot actually posted."""
    action = _button_action(action_id=action_id, block_id=block_id, text=button_text, value=value, style=style)
    return _payload_form(
        _block_actions_payload(
            user_id=user_id,
            username=username,
            action=action,
            message_blocks=message_blocks,
            message_text=message_text,
            channel_id=channel_id,
            channel_name=channel_name,
            message_ts=message_ts,
            thread_ts=thread_ts,
            is_ephemeral=is_ephemeral,
            response_url=response_url,
            team_id=team_id,
        )
    )


def _interactive_elements(blocks: Sequence[Any]) -> list[tuple[JsonDict, JsonDict]]:
    """``(block, element)`` for every element a user can act on in a message."""
    found: list[tuple[JsonDict, JsonDict]] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions":
            found += [(block, e) for e in block.get("elements", []) if isinstance(e, dict)]
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            found.append((block, block["accessory"]))
    return found


def click_button(
    message_blocks: Sequence[Any],
    action_id: str,
    *,
    user_id: str,
    response_url: str,
    block_id: str | None = None,
    channel_id: str = "C0TEAM",
    channel_name: str | None = None,
    message_ts: str = "1700000000.000100",
    message_text: str = "",
    username: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    team_id: str = TEAM_ID,
) -> str:
    """Click the button ``action_id`` in blocks the bot posted; returns the signed-ready body.

    The button is looked up in actions blocks and section accessories, and its real
    ``block_id``, ``value``, text and style go into the payload -- so a test can only click
    what the bot really rendered.  ``block_id`` disambiguates equal action_ids in
    different blocks.  Raises AssertionError listing the available action_ids otherwise.
    """
    normalized = _with_block_ids(message_blocks)
    elements = _interactive_elements(normalized)
    matches = [
        (block, element)
        for block, element in elements
        if element.get("type") == "button"
        and element.get("action_id") == action_id
        and (block_id is None or block.get("block_id") == block_id)
    ]
    if not matches:
        available = [f"{e.get('action_id')} ({e.get('type')}, block {b.get('block_id')})" for b, e in elements]
        raise AssertionError(
            f"no button with action_id {action_id!r}"
            + (f" in block {block_id!r}" if block_id else "")
            + f"; interactive elements available: {available or 'none'}"
        )
    if len(matches) > 1:
        raise AssertionError(
            f"{len(matches)} buttons have action_id {action_id!r}; pass block_id= one of "
            f"{[b.get('block_id') for b, _ in matches]}"
        )
    block, button = matches[0]
    text = button.get("text", {})
    action = _button_action(
        action_id=action_id,
        block_id=str(block["block_id"]),
        text=str(text.get("text", "")) if isinstance(text, dict) else str(text),
        value=button.get("value"),
        style=button.get("style"),
    )
    return _payload_form(
        _block_actions_payload(
            user_id=user_id,
            username=username,
            action=action,
            message_blocks=normalized,
            message_text=message_text,
            channel_id=channel_id,
            channel_name=channel_name,
            message_ts=message_ts,
            thread_ts=thread_ts,
            is_ephemeral=is_ephemeral,
            response_url=response_url,
            team_id=team_id,
        )
    )


def _plain(text: str) -> JsonDict:
    return {"type": "plain_text", "text": text, "emoji": True}


def view_submission(
    *,
    user_id: str,
    callback_id: str,
    private_metadata: str,
    state_values: Mapping[str, Mapping[str, Any]],
    blocks: Sequence[Any] = (),
    view_id: str = "V0MODAL",
    title: str = "On-call",
    external_id: str = "",
    username: str | None = None,
    team_id: str = TEAM_ID,
) -> str:
    """The ``payload=`` form body Slack posts when a user submits a modal.

    ``state_values`` is Slack's own shape: ``{block_id: {action_id: {"type": ..., ...}}}``.
    :func:`submit_view` builds it for you from the view the bot opened.
    """
    view = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": _with_block_ids(blocks),
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": {k: dict(v) for k, v in state_values.items()}},
        "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        "title": _plain(title),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": _plain("Cancel"),
        "submit": _plain("Submit"),
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": APP_ID,
        "external_id": external_id,
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    return _payload_form(
        {
            "type": "view_submission",
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "user": _user_object(user_id, username, team_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": _trigger_id(),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )


def _find_option(element: Mapping[str, Any], value: str) -> JsonDict:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options += group.get("options", [])
    for option in options:
        if option.get("value") == value:
            return dict(option)
    if element.get("type", "").startswith(("external_select", "multi_external_select")):
        return {"text": _plain(value), "value": value}
    raise AssertionError(
        f"{value!r} is not an option of {element.get('action_id')!r}; options: {[o.get('value') for o in options]}"
    )


_SINGLE_SELECTED = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
_MULTI_SELECTED = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


def _element_state(element: Mapping[str, Any], value: Any) -> JsonDict:
    """Slack's ``state.values`` entry for one input element given the user's answer."""
    kind = str(element.get("type"))
    state: JsonDict = {"type": kind}
    many = list(value) if isinstance(value, list | tuple) else ([] if value is None else [value])
    if kind in ("static_select", "external_select", "radio_buttons"):
        state["selected_option"] = _find_option(element, str(value)) if value is not None else None
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        state["selected_options"] = [_find_option(element, str(v)) for v in many]
    elif kind in _SINGLE_SELECTED:
        state[_SINGLE_SELECTED[kind]] = value
    elif kind in _MULTI_SELECTED:
        state[_MULTI_SELECTED[kind]] = many
    else:  # plain_text_input, number_input, email_text_input, url_text_input, ...
        state["value"] = None if value is None else str(value)
    return state


def submit_view(
    view: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    user_id: str,
    view_id: str | None = None,
    username: str | None = None,
    team_id: str = TEAM_ID,
) -> str:
    """Submit the modal the bot opened, answering its inputs by ``action_id``.

    ``view`` is the ``view`` the bot sent (``slack.last("views.open").body["view"]``) or the
    fake's answer (``.response["view"]``).  ``values`` maps action_id -> answer: a string
    (text, date, user id, option value) or a list for multi-selects/checkboxes.  Every
    input block appears in the state, as with Slack; answering an unknown action_id, an
    option that is not offered, or leaving a required input empty raises AssertionError,
    because the Slack client would not let a user do that.
    """
    blocks = _with_block_ids(list(view.get("blocks", [])))
    state: dict[str, JsonDict] = {}
    remaining = dict(values)
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element", {})
        action_id = str(element.get("action_id"))
        answer = remaining.pop(action_id, None)
        if answer in (None, "", []) and not block.get("optional", False):
            raise AssertionError(f"required input {action_id!r} (block {block['block_id']!r}) left empty")
        state[str(block["block_id"])] = {action_id: _element_state(element, answer)}
    if remaining:
        known = [b.get("element", {}).get("action_id") for b in blocks if b.get("type") == "input"]
        raise AssertionError(f"no input with action_id(s) {sorted(remaining)}; inputs: {known}")
    title = view.get("title", {})
    return view_submission(
        user_id=user_id,
        callback_id=str(view.get("callback_id", "")),
        private_metadata=str(view.get("private_metadata", "")),
        state_values=state,
        blocks=blocks,
        view_id=view_id or str(view.get("id", "V0MODAL")),
        title=str(title.get("text", "")) if isinstance(title, dict) else str(title),
        external_id=str(view.get("external_id", "")),
        username=username,
        team_id=team_id,
    )


def event_callback(event: Mapping[str, Any], *, team_id: str = TEAM_ID, api_app_id: str = APP_ID) -> str:
    """The JSON envelope the Events API posts around ``event``."""
    context = {"et": event.get("type"), "tid": team_id, "aid": api_app_id, "cid": event.get("channel")}
    return _compact(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": None,
            "api_app_id": api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + base64.urlsafe_b64encode(_compact(context).encode()).decode().rstrip("="),
        }
    )


def _rich_text(text: str) -> list[JsonDict]:
    """The ``rich_text`` block Slack's client attaches to a typed message."""
    elements: list[JsonDict] = []
    position = 0
    for match in _MENTION_RE.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = _auto_block_id(0, {"text": text})
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def _user_message(
    event_type: str, text: str, user: str, channel: str, ts: str | None, thread_ts: str | None, team_id: str
) -> JsonDict:
    message_ts = ts or _now_ts()
    event: JsonDict = {
        "client_msg_id": str(uuid.uuid4()),
        "type": event_type,
        "text": text,
        "user": user,
        "ts": message_ts,
        "blocks": _rich_text(text),
        "team": team_id,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    event["channel"] = channel
    event["event_ts"] = message_ts
    return event


def app_mention(
    text: str,
    *,
    user: str = "U0A11CE",
    channel: str = "C0TEAM",
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """The ``app_mention`` event dict (wrap with :func:`event_callback`).

    Slack's text always contains the mention, so ``"who is on call"`` becomes
    ``"<@U0BOT> who is on call"``; text that already mentions the bot is kept as is.
    """
    if f"<@{BOT_USER_ID}" not in text:
        text = f"<@{BOT_USER_ID}> {text}"
    return _user_message("app_mention", text, user, channel, ts, thread_ts, team_id)


def message_event(
    text: str,
    *,
    user: str = "U0A11CE",
    channel: str = "D0A11CE",
    channel_type: str = "im",
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """A ``message`` event (default: a DM to the bot; wrap with :func:`event_callback`)."""
    event = _user_message("message", text, user, channel, ts, thread_ts, team_id)
    event["channel_type"] = channel_type
    return event


def url_verification(challenge: str) -> str:
    """The JSON body Slack posts when the Events API request URL is configured."""
    return _compact({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


def parse_payload(body: str) -> JsonDict:
    """Decode a builder's body back to the dict Bolt will see (``payload=`` form or JSON).

    Handy for asserting on what a test sent, e.g. ``parse_payload(body)["actions"][0]``.
    """
    if body.lstrip().startswith("{"):
        return cast(JsonDict, json.loads(body))
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    if "payload" in fields:
        return cast(JsonDict, json.loads(fields["payload"]))
    return dict(fields)
