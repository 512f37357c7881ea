"""The HTTP edge: every request to `/slack/events` passes three gates, in this order,
before Bolt sees it.

1. **Size.** Slack's payloads are a few kilobytes; anything over `MAX_BODY_BYTES` gets
   413. waitress refuses such bodies already (`max_request_body_size` in `serve`); we
   check `Content-Length` again and never read past it, so the cap holds under any WSGI
   server (tests serve with `create_server`).
2. **Signature**, on the raw bytes, before anything parses them. Missing, malformed
   (slack_sdk's verifier raises on a non-numeric timestamp), stale or forged: 401. Any
   exception while verifying counts as invalid, so an attacker can never reach the error
   handler, which would answer into a channel or `response_url` of their choosing.
   `ssl_check=1` bodies are no exception: only a signed one reaches Bolt, which then
   answers 200.
3. **Shape.** A signed body that is not what Slack sends gets 400, never a traceback.

A refused request's body is never logged, only one short line (method, path, reason,
size), so a flood of them cannot fill the disk.
"""

import json
import logging
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_sdk.signature import SignatureVerifier

from bot.app import StoreUnavailable
from bot.bolt_fix import FormSafeRequest, MalformedBody, parse_body

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024


class Refused(Exception):
    """A request stopped at a gate: the HTTP status, and a reason short enough to log."""

    def __init__(self, status: str, reason: str, size: int) -> None:
        super().__init__(reason)
        self.status, self.reason, self.size = status, reason, size


def health_app(
    healthy: Callable[[], bool], details: Callable[[], dict[str, Any]] | None = None
) -> Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]:
    """`GET /healthz` (200 while the database answers, 503 otherwise), 404 for the rest:
    all a load balancer needs, and all Socket Mode serves over HTTP. `details` adds what
    an operator wants at a glance (the scheduler's state, the oldest overdue message)."""

    def app(environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        if environ.get("PATH_INFO") != HEALTH_PATH or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _json(start_response, "404 Not Found", {"error": "not found"})
        up = healthy()
        status = "200 OK" if up else "503 Service Unavailable"
        extra = details() if up and details is not None else {}
        return _json(start_response, status, {"ok": up, "database": "up" if up else "down", **extra})

    return app


class SlackEdge:
    """`POST /slack/events` through the gates to Bolt; everything else to `fallback`."""

    def __init__(
        self,
        app: App,
        signing_secret: str,
        fallback: Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]],
    ) -> None:
        self._app = app
        self._verifier = SignatureVerifier(signing_secret)
        self._fallback = fallback

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        if environ.get("PATH_INFO") != EVENTS_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self._fallback(environ, start_response)
        try:
            raw = _read_capped(environ)
            self._verify(raw, environ)
            text = raw.decode("utf-8")  # the verifier decoded it already, so this cannot fail
            request = _bolt_request(text, _parse(text, environ, len(raw)), environ)
        except Refused as refused:
            log.warning(
                "refused %s %s: %s (%d bytes)",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                refused.reason,
                refused.size,
            )
            return _json(start_response, refused.status, {"error": refused.reason})
        return self._dispatch(request, start_response)

    def _verify(self, raw: bytes, environ: "WSGIEnvironment") -> None:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        try:
            valid = self._verifier.is_valid(body=raw, timestamp=timestamp, signature=signature)
        except Exception:  # a garbled header or body is simply not Slack's
            valid = False
        if not valid:
            raise Refused("401 Unauthorized", "invalid request", len(raw))

    def _dispatch(self, request: FormSafeRequest, start_response: "StartResponse") -> Iterable[bytes]:
        """Our listeners' errors reach the error handler inside Bolt; what escapes
        `dispatch` is Bolt failing to route a body of a shape `parse_body` let through."""
        try:
            answer = self._app.dispatch(request)
        except StoreUnavailable:
            log.exception("could not dispatch a signed request: the database failed")  # no body in it
            return _json(start_response, "503 Service Unavailable", {"error": "try again"})
        except Exception as error:
            log.warning("refused a signed body Bolt could not route (%s)", type(error).__name__)
            return _json(start_response, "400 Bad Request", {"error": "not a Slack payload"})
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()


def _read_capped(environ: "WSGIEnvironment") -> bytes:
    """The body, refused by its declared length before a byte of it is read. The WSGI
    server buffered it already (waitress also caps that buffer), and we read no more than
    `Content-Length`, which waitress sets for chunked bodies too."""
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused("400 Bad Request", "bad Content-Length", 0) from None
    if declared > MAX_BODY_BYTES:
        raise Refused("413 Request Entity Too Large", "body too large", declared)
    stream: IO[bytes] = environ["wsgi.input"]
    return stream.read(declared) if declared > 0 else b""


def _parse(text: str, environ: "WSGIEnvironment", size: int) -> dict[str, Any]:
    try:
        return parse_body(text, environ.get("CONTENT_TYPE"))
    except MalformedBody as error:
        raise Refused("400 Bad Request", str(error), size) from None


def _bolt_request(text: str, fields: dict[str, Any], environ: "WSGIEnvironment") -> FormSafeRequest:
    """Bolt reads the ids it routes by while building the request, and raises on a JSON
    object of the wrong shape (`"view": 1`): that is a 400 too."""
    wsgi = WsgiHttpRequest(environ)
    try:
        return FormSafeRequest(body=text, fields=fields, query=wsgi.query_string, headers=wsgi.get_headers())
    except Exception:
        raise Refused("400 Bad Request", "not a Slack payload", len(text.encode())) from None


def _json(start_response: "StartResponse", status: str, payload: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
