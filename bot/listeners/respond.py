"""Answering a slash command or button: the first message in the HTTP ack, the rest
through `response_url` (only long run books need more than one)."""

from collections.abc import Sequence

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.answers import answer
from bot.blocks import Message
from bot.parsing import MentionRequest
from bot.services import Services


def compute(
    services: Services, client: WebClient, request: MentionRequest, user_id: str, channel_id: str | None
) -> list[Message]:
    """Resolve team and viewer timezone, then ask the core."""
    with Session(services.runtime.engine) as session:
        team = services.team_for(session, user_id, channel_id)
        viewer_tz = services.viewer_timezone(client, user_id, team)
        return answer(session, request, team, services.runtime, viewer_tz, user_id)


def reply(ack: Ack, respond: Respond, messages: Sequence[Message], *, share: bool = False) -> None:
    response_type = "in_channel" if share else "ephemeral"
    first, *rest = messages
    ack(response_type=response_type, **first.payload())
    for message in rest:
        respond(response_type=response_type, **message.payload())
