"""What a failure becomes, for every kind of request and for deferred work alike: a
domain refusal is a friendly ephemeral answer; anything else is logged with a short id
that is also shown, so a report from the channel can be found in the logs."""

import logging
import uuid
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.views.message import Message, error_message, plain
from core.errors import OncallError

log = logging.getLogger(__name__)


def message_for(error: Exception) -> Message:
    if isinstance(error, OncallError):
        return error_message(str(error))
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return plain(f":boom: Something went wrong on my side (error id `{error_id}`). It has been logged.")


def deliver(message: Message, body: dict[str, Any], client: WebClient) -> None:
    """Answer where the request came from: its response_url, or the mention's thread.
    Only signed requests get here (bot.edge), so these are Slack's own addresses."""
    try:
        if isinstance(url := body.get("response_url"), str) and url:
            WebhookClient(url).send(response_type="ephemeral", replace_original=False, **message.payload())
        elif isinstance(event := body.get("event"), dict) and event.get("channel"):
            client.chat_postMessage(
                channel=event["channel"], thread_ts=event.get("thread_ts") or event.get("ts"), **message.payload()
            )
    except Exception:
        log.exception("could not deliver an error message")
