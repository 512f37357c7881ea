"""Button clicks."""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.listeners.respond import compute
from bot.parsing import ShowRunbook
from bot.services import services_of


def open_runbook(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
    context: BoltContext,
) -> None:
    """A pipeline choice button: show that run book in place of the choices."""
    ack()
    request = ShowRunbook(str(action.get("value", "")))
    channel = (body.get("channel") or {}).get("id")
    first, *rest = compute(services_of(context), client, request, body["user"]["id"], channel)
    respond(replace_original=True, **first.payload())
    for message in rest:
        respond(**message.payload())


def register(app: App) -> None:
    app.action(re.compile(rf"^{ids.OPEN_RUNBOOK}:"))(open_runbook)
