"""Serving the bot: Socket Mode with an app token, otherwise HTTP under waitress.

waitress is a production WSGI server with a thread pool, so one slow request (a Slack
API call, a long run book) never holds up the others — unlike Bolt's development server
or the sync App inside the Starlette adapter, which serialise requests.

Both modes stop gracefully on SIGTERM (what a platform sends before it replaces an
instance) and SIGINT: stop taking requests, let the work in flight finish — including
what Bolt runs after the ack, such as `/oncall away`'s re-plan, which answers through
`response_url` — for up to `DRAIN_SECONDS`, then exit 0.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from types import FrameType
from typing import TYPE_CHECKING, Any

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from waitress import wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from announcements.scheduler import AnnouncementScheduler
from bot.announcing import health_details, slack_announcer, start_scheduler
from bot.app import OncallApp, build_app
from bot.doctor import check_at_start
from bot.edge import EVENTS_PATH, HEALTH_PATH, MAX_BODY_BYTES, SlackEdge, health_app
from bot.tokens import rejected
from core.settings import Settings, require
from storage.db import ping
from usecases.runtime import Runtime, open_runtime

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)
THREADS = 8
# Under the 30 s most platforms wait between SIGTERM and SIGKILL.
DRAIN_SECONDS = 25.0
POLL_SECONDS = 0.05


def bolt_app(runtime: Runtime, token: str) -> OncallApp:
    """The Bolt app, with Bolt's own signature check off: the edge checks signatures on
    the raw bytes before Bolt parses anything, and Socket Mode has none. Bolt calls
    `auth.test` here, so a bad token is found before anything is served."""
    try:
        return build_app(runtime, token=token, signing_secret=None)
    except BoltError as error:
        if isinstance(error.__context__, SlackApiError):
            raise rejected("SLACK_BOT_TOKEN", "auth.test", error.__context__) from None
        raise


def http_app(
    runtime: Runtime, app: OncallApp | None = None, scheduler: AnnouncementScheduler | None = None
) -> SlackEdge:
    """The WSGI application for HTTP mode (also what tests and benchmarks serve)."""
    settings = runtime.settings
    secret = require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    bolt = app or bolt_app(runtime, require(settings.slack_bot_token, "SLACK_BOT_TOKEN"))
    return SlackEdge(bolt, secret, _health(runtime, scheduler))


def _health(runtime: Runtime, scheduler: AnnouncementScheduler | None) -> "WSGIApplication":
    return health_app(lambda: ping(runtime.engine), lambda: health_details(runtime, scheduler))


def serve(settings: Settings, port: int | None = None, host: str | None = None) -> None:
    """Run until SIGTERM or SIGINT. Missing or refused tokens are reported before
    anything is served."""
    _log_to_stderr()
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    app_token = None if settings.slack_app_token is None else require(settings.slack_app_token, "SLACK_APP_TOKEN")
    if app_token is None:
        require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    runtime = open_runtime(settings)
    app = bolt_app(runtime, token)
    check_at_start(runtime, token)  # logs each problem once, in the background; never stops serving
    address = (host or settings.host, port or settings.port)
    scheduler = start_scheduler(runtime, token)
    try:
        if app_token is None:
            _serve_http(http_app(runtime, app, scheduler), app, address)
        else:
            _serve_socket_mode(runtime, app, app_token, address, scheduler)
    finally:
        if scheduler is not None:
            scheduler.shutdown()


def work(settings: Settings) -> None:
    """`oncall worker`: only the announcement scheduler, until SIGTERM or SIGINT; the sweep
    in progress finishes its sends first."""
    _log_to_stderr()
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    scheduler = AnnouncementScheduler(slack_announcer(open_runtime(settings), token))
    stopping = threading.Event()
    _on_termination(stopping.set)
    scheduler.start()
    stopping.wait()
    scheduler.shutdown()
    log.info("stopped")


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _serve_http(edge: SlackEdge, app: OncallApp, address: tuple[str, int]) -> None:
    server = _listen(edge, address, THREADS)
    log.info("serving HTTP on %s:%s (%s, %s)", *address, EVENTS_PATH, HEALTH_PATH)

    def stop() -> None:
        server.accepting = False  # the listening socket is no longer polled
        threading.Thread(target=_drain_then_close, args=(server, app), name="drain").start()

    _on_termination(stop)
    server.run()  # returns once `_drain_then_close` has closed every channel
    log.info("stopped")


def _serve_socket_mode(
    runtime: Runtime,
    app: OncallApp,
    app_token: str,
    address: tuple[str, int],
    scheduler: AnnouncementScheduler | None,
) -> None:
    """Slack's events over a WebSocket; `/healthz` still answers on the HTTP port, so a
    platform's health check passes."""
    stopping = threading.Event()
    _on_termination(stopping.set)  # before anything answers, so no signal can come earlier
    health = _listen(_health(runtime, scheduler), address, 1)
    threading.Thread(target=health.run, name="healthz", daemon=True).start()
    handler = socket_mode_handler(app, app_token)
    log.info("connected to Slack in Socket Mode; %s on %s:%s", HEALTH_PATH, *address)
    stopping.wait()
    deadline = time.monotonic() + DRAIN_SECONDS
    app.stop_taking_requests(deadline)  # the envelopes in flight are acked over the open link
    handler.close()  # type: ignore[no-untyped-call]
    _drain_listeners(app.listener_runner.listener_executor, deadline)
    log.info("stopped")


def socket_mode_handler(app: OncallApp, app_token: str) -> "SocketModeHandler":
    """Connected to Slack (slack_sdk's builtin WebSocket client); a refused app token is
    reported like a refused bot token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token=app_token)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as error:
        raise rejected("SLACK_APP_TOKEN", "apps.connections.open", error) from None
    return handler


def _listen(wsgi: "WSGIApplication", address: tuple[str, int], threads: int) -> BaseWSGIServer:
    host, port = address
    server = create_server(wsgi, host=host, port=port, threads=threads, max_request_body_size=MAX_BODY_BYTES)
    if isinstance(server, MultiSocketServer):  # only for a list of listen addresses, which we never pass
        raise TypeError("one listen address expected")
    return server


def _on_termination(stop: Callable[[], None]) -> None:
    """Call `stop` once, on the first SIGTERM or SIGINT."""
    stopped = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if not stopped.is_set():
            stopped.set()
            log.info("%s: finishing the work in flight (up to %.0f s)", signal.Signals(signum).name, DRAIN_SECONDS)
            stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _drain_then_close(server: BaseWSGIServer, app: OncallApp) -> None:
    """Wait for the requests being served, then for what Bolt runs after their acks; then
    close every connection from the server's own loop, which makes `server.run` return."""
    deadline = time.monotonic() + DRAIN_SECONDS
    dispatcher = server.task_dispatcher
    while time.monotonic() < deadline:
        with dispatcher.lock:
            if dispatcher.active_count == 0 and not dispatcher.queue:
                break
        time.sleep(POLL_SECONDS)
    app.stop_taking_requests(deadline)  # a keep-alive connection may still bring one: 503
    _drain_listeners(app.listener_runner.listener_executor, deadline)
    loop: Any = server  # types-waitress has `trigger` as an int and no `_map`
    loop.trigger.pull_trigger(lambda: wasyncore.close_all(loop._map))


def _drain_listeners(executor: Executor, deadline: float) -> None:
    """Bolt's listener pool, where listeners go on after their ack, finished by `deadline`."""
    waiter = threading.Thread(target=executor.shutdown, name="drain-listeners", daemon=True)
    waiter.start()
    waiter.join(max(0.0, deadline - time.monotonic()))
    if waiter.is_alive():
        log.warning("gave up waiting for listeners after %.0f s; their work is lost", DRAIN_SECONDS)
