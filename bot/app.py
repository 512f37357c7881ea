"""Building the Bolt app: one WebClient with retries, a unit of work per request, events
answered once, listeners, and the one error handler."""

import logging
import threading
import time
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.listeners import register_listeners
from bot.services import Services
from bot.session import unit_of_work
from storage.receipts import first_delivery
from usecases.runtime import Runtime

log = logging.getLogger(__name__)
BOLT_LOGGER = "slack_bolt"


def web_client(token: str, base_url: str) -> WebClient:
    """Retries connection errors, rate limits (honouring Retry-After) and 5xx answers."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class StoreUnavailable(Exception):
    """The database failed in our own part of a dispatch (the event receipt, the unit of
    work's commit): Slack should retry, so the edge answers 503, not 400."""


class OncallApp(App):
    """Bolt's App with the request's unit of work around the whole dispatch (listeners run
    before the response, so inside it), what listeners leave for after the ack started
    once it is committed, Events API deliveries answered once, and a stop for shutdown
    that lets the dispatches in flight finish first."""

    def __init__(self, runtime: Runtime, **kwargs: object) -> None:
        super().__init__(process_before_response=True, **kwargs)  # type: ignore[arg-type]
        self.runtime = runtime
        self._in_flight = 0
        self._stopping = False
        self._idle = threading.Condition()

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Listener errors are handled inside (the error handler); what escapes as a
        database error is ours, and worth a retry."""
        with self._idle:
            if self._stopping:  # Slack retries elsewhere; a command shows Slack's error
                return BoltResponse(status=503, body="")
            self._in_flight += 1
        try:
            return self._dispatch_once(req)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def stop_taking_requests(self, deadline: float) -> None:
        """From now on answer 503, and wait (until the `time.monotonic()` deadline) for
        the dispatches in flight: in Socket Mode their acks still need the connection."""
        with self._idle:
            self._stopping = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=max(0.0, deadline - time.monotonic()))

    def _dispatch_once(self, req: BoltRequest) -> BoltResponse:
        try:
            if self._is_repeat_delivery(req):
                return BoltResponse(status=200, body="")
            with unit_of_work(self.runtime.engine, req.context) as scope:
                response = super().dispatch(req)
        except SQLAlchemyError as error:
            raise StoreUnavailable("the database failed while dispatching") from error
        for work in scope.after_ack:
            self._after_ack(work)
        return response

    def _after_ack(self, work: Callable[[], None]) -> None:
        try:
            self.listener_runner.listener_executor.submit(_logging_failures, work)
        except RuntimeError:  # the pool is draining for shutdown: send it now rather than lose it
            _logging_failures(work)

    def _is_repeat_delivery(self, req: BoltRequest) -> bool:
        event_id = req.body.get("event_id") if req.body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            return False
        event_id = event_id[:100]  # Slack's are a dozen characters; a forged one stays a short key
        if first_delivery(self.runtime.engine, event_id, self.runtime.clock()):
            return False
        log.info("event %s was delivered again (retry %s): already answered", event_id, _retry_number(req))
        return True


def _logging_failures(work: Callable[[], None]) -> None:
    """A Future would keep the exception to itself; the ack has gone, so log it."""
    try:
        work()
    except Exception:
        log.exception("could not send an answer after the ack")


def _retry_number(req: BoltRequest) -> str:
    values = req.headers.get("x-slack-retry-num") or ["?"]
    return values[0][:8]


class _ClientOverToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client (ours has
    the same token, plus retries and the API address) and warns on every start; the
    warning says nothing true about our set-up, so it is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_app(runtime: Runtime, *, token: str, signing_secret: str | None) -> OncallApp:
    """The Bolt app; without a signing secret it can only serve Socket Mode."""
    logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(existing, _ClientOverToken) for existing in logger.filters):
        logger.addFilter(_ClientOverToken())
    app = OncallApp(
        runtime,
        client=web_client(token, runtime.settings.slack_api_url),
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        logger=logger,
    )
    register_listeners(app, Services(runtime))
    return app
