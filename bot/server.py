"""Serving the bot: Socket Mode with an app token, otherwise HTTP under waitress.

waitress is a production WSGI server with a thread pool, so one slow request (a Slack
API call, a long run book) never holds up the others — unlike Bolt's development server
or the sync App inside the Starlette adapter, which serialise requests.
"""

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import waitress
from slack_bolt import App

from bot.app import build_app
from bot.bolt_fix import FormSafeRequestHandler
from core.settings import Settings, require
from storage.db import ping
from usecases.runtime import Runtime, open_runtime

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
THREADS = 8


class OncallWSGI:
    """`POST /slack/events` for Slack, `GET /healthz` for load balancers."""

    def __init__(self, app: App, runtime: Runtime) -> None:
        self._slack = FormSafeRequestHandler(app, path=EVENTS_PATH)
        self._runtime = runtime

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        return self._slack(environ, start_response)

    def _health(self, start_response: "StartResponse") -> Iterable[bytes]:
        healthy = ping(self._runtime.engine)
        body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
        status = "200 OK" if healthy else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def http_app(runtime: Runtime) -> OncallWSGI:
    """The WSGI application for HTTP mode (also what tests and benchmarks serve)."""
    settings = runtime.settings
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    secret = require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    return OncallWSGI(build_app(runtime, token=token, signing_secret=secret), runtime)


def serve(settings: Settings, port: int | None = None) -> None:
    """Run until interrupted. Missing tokens are reported before anything starts."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    if settings.slack_app_token is not None:
        app_token = require(settings.slack_app_token, "SLACK_APP_TOKEN")
        _serve_socket_mode(open_runtime(settings), token, app_token)
        return
    require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    runtime = open_runtime(settings)
    listen = port or settings.port
    log.info("serving HTTP on port %s (%s, /healthz)", listen, EVENTS_PATH)
    waitress.serve(http_app(runtime), host="0.0.0.0", port=listen, threads=THREADS)


def _serve_socket_mode(runtime: Runtime, token: str, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = build_app(runtime, token=token, signing_secret=None)
    log.info("connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token=app_token).start()  # type: ignore[no-untyped-call]
