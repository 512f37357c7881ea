"""The one error handler for commands, actions and events: no listener writes its own
`try/except`. It always answers Slack with a 200, so nothing is retried or shown as a
failure, and it marks the request's unit of work for rollback."""

import json
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.failures import deliver, message_for
from bot.session import after_ack, mark_failed


def register(app: App) -> None:
    def handle_error(error: Exception, body: dict[str, Any], client: WebClient, context: BoltContext) -> BoltResponse:
        mark_failed(context)
        message = message_for(error)
        acked = context.ack.response if context.ack is not None else None
        if acked is None and body.get("command"):
            return BoltResponse(
                status=200,
                headers={"content-type": "application/json;charset=utf-8"},
                body=json.dumps({"response_type": "ephemeral", **message.payload()}),
            )
        after_ack(context, lambda: deliver(message, body, client))  # the ack never waits on Slack
        if acked is not None:
            return BoltResponse(status=200, headers=acked.headers, body=acked.body)
        return BoltResponse(status=200, body="")

    app.error(handle_error)
