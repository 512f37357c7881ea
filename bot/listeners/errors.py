"""The one error handler: domain errors become a friendly answer, anything else is logged
with an id that is also shown, so a report from the channel can be found in the logs."""

import json
import logging
import uuid
from typing import Any

from slack_bolt import App
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.blocks import Message, error_message, plain
from core.errors import OncallError

log = logging.getLogger(__name__)


def handle_error(
    error: Exception, body: dict[str, Any], client: WebClient, response: BoltResponse | None
) -> BoltResponse | None:
    message = _message_for(error)
    if response is not None and body.get("command"):
        return BoltResponse(
            status=200,
            headers={"content-type": "application/json;charset=utf-8"},
            body=json.dumps({"response_type": "ephemeral", **message.payload()}),
        )
    _deliver(message, body, client)
    return None


def _message_for(error: Exception) -> Message:
    if isinstance(error, OncallError):
        return error_message(str(error))
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return plain(f":boom: Something went wrong on my side (error id `{error_id}`). It has been logged.")


def _deliver(message: Message, body: dict[str, Any], client: WebClient) -> None:
    """Answer where the failed request came from: its response_url, or the mention's thread."""
    try:
        if body.get("response_url"):
            WebhookClient(body["response_url"]).send(response_type="ephemeral", **message.payload())
        elif (event := body.get("event") or {}).get("channel"):
            client.chat_postMessage(
                channel=event["channel"],
                thread_ts=event.get("thread_ts") or event.get("ts"),
                **message.payload(),
            )
    except Exception:
        log.exception("could not deliver an error message")


def register(app: App) -> None:
    app.error(handle_error)
