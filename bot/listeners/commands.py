"""Slash commands: `/oncall` and `/runbook`. `/oncall away` is acknowledged at once and
booked after the ack, since re-planning a year can take longer than Slack's 3 seconds."""

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.answers import answer, book_away
from bot.asker import resolve_asker
from bot.deferred import deferred
from bot.listeners.respond import reply, respond_all
from bot.parsing import Away, MentionRequest, ShowRunbook, parse_oncall, parse_runbook
from bot.services import Services
from bot.session import session_of
from bot.views.message import Message


def register(app: App, services: Services) -> None:
    runtime = services.runtime

    def _answer(
        command: dict[str, Any], client: WebClient, context: BoltContext, request: MentionRequest
    ) -> list[Message]:
        session = session_of(context)
        asker = resolve_asker(session, services, client, command["user_id"], command.get("channel_id"))
        return answer(session, request, asker, runtime)

    def oncall_command(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        reply(context, ack, respond, _answer(command, client, context, parse_oncall(command.get("text", ""))))

    def runbook_command(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        request = parse_runbook(command.get("text", ""))
        share = isinstance(request, ShowRunbook) and request.share
        reply(context, ack, respond, _answer(command, client, context, request), share=share)

    def acknowledge_away(ack: Ack, command: dict[str, Any]) -> None:
        request = _away_request(command)
        ack(response_type="ephemeral", text=f"Booking your time off {request.first} to {request.last}…")

    def book_away_after_ack(session: Session, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        asker = resolve_asker(session, services, client, body["user_id"], body.get("channel_id"))
        respond_all(respond, book_away(session, _away_request(body), asker, runtime))

    book_later = deferred(runtime.engine, book_away_after_ack)
    app.command("/oncall", matchers=[_is_away])(ack=acknowledge_away, lazy=[book_later])
    app.command("/oncall")(oncall_command)
    app.command("/runbook")(runbook_command)


def _is_away(command: dict[str, Any]) -> bool:
    """Only a valid booking is deferred; a refused one is answered in the ack like any help."""
    return isinstance(parse_oncall(command.get("text", "")), Away)


def _away_request(command: dict[str, Any]) -> Away:
    request = parse_oncall(command.get("text", ""))
    if not isinstance(request, Away):
        raise TypeError("only matched for a booking")
    return request
