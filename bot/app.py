"""Building the Bolt app: one WebClient with retries, listeners, and the services."""

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.listeners import register_listeners
from bot.services import CONTEXT_KEY, Services
from usecases.runtime import Runtime

log = logging.getLogger(__name__)


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


def build_app(runtime: Runtime, *, token: str, signing_secret: str | None) -> App:
    """The Bolt app; without a signing secret it can only serve Socket Mode."""
    services = Services(runtime)
    app = App(
        client=web_client(token, runtime.settings.slack_api_url),
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        logger=logging.getLogger("slack_bolt"),
    )

    def provide_services(context: BoltContext, next: Any) -> None:
        context[CONTEXT_KEY] = services
        next()

    app.use(provide_services)
    register_listeners(app)
    return app
