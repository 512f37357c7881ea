"""Slash commands: `/oncall` and `/runbook`."""

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import error_message
from bot.listeners.respond import compute, reply
from bot.parsing import Away, ShowRunbook, parse_oncall, parse_runbook
from bot.services import services_of
from core.errors import OncallError


def oncall_command(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    request = parse_oncall(command.get("text", ""))
    if isinstance(request, Away):
        _book_away(ack, command, client, respond, context, request)
        return
    reply(
        ack,
        respond,
        compute(services_of(context), client, request, command["user_id"], command.get("channel_id")),
    )


def _book_away(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, request: Away
) -> None:
    """Re-planning a year can take a second or two: acknowledge within Slack's three
    seconds first, then answer through `response_url` (a refusal too, since the ack has
    already gone and the error handler could no longer answer in it)."""
    ack(response_type="ephemeral", text=f"Booking your time off {request.first} to {request.last}…")
    try:
        messages = compute(services_of(context), client, request, command["user_id"], command.get("channel_id"))
    except OncallError as error:
        messages = [error_message(str(error))]
    for message in messages:
        respond(response_type="ephemeral", **message.payload())


def runbook_command(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    request = parse_runbook(command.get("text", ""))
    messages = compute(services_of(context), client, request, command["user_id"], command.get("channel_id"))
    reply(ack, respond, messages, share=isinstance(request, ShowRunbook) and request.share)


def register(app: App) -> None:
    app.command("/oncall")(oncall_command)
    app.command("/runbook")(runbook_command)
