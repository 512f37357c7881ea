"""Slash commands: `/oncall` and `/runbook`."""

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.respond import compute, reply
from bot.parsing import ShowRunbook, parse_oncall, parse_runbook
from bot.services import services_of


def oncall_command(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    request = parse_oncall(command.get("text", ""))
    reply(
        ack,
        respond,
        compute(services_of(context), client, request, command["user_id"], command.get("channel_id")),
    )


def runbook_command(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    request = parse_runbook(command.get("text", ""))
    messages = compute(services_of(context), client, request, command["user_id"], command.get("channel_id"))
    reply(ack, respond, messages, share=isinstance(request, ShowRunbook) and request.share)


def register(app: App) -> None:
    app.command("/oncall")(oncall_command)
    app.command("/runbook")(runbook_command)
