"""Answering a slash command: the first message in the HTTP ack, the rest through
`response_url` once the ack has gone (only long answers need more than one)."""

from collections.abc import Sequence

from slack_bolt import Ack, BoltContext, Respond

from bot.session import after_ack
from bot.views.message import Message


def reply(
    context: BoltContext, ack: Ack, respond: Respond, messages: Sequence[Message], *, share: bool = False
) -> None:
    response_type = "in_channel" if share else "ephemeral"
    first, *rest = messages
    ack(response_type=response_type, **first.payload())
    if rest:
        after_ack(context, lambda: respond_all(respond, rest, response_type=response_type))


def respond_all(respond: Respond, messages: Sequence[Message], *, response_type: str = "ephemeral") -> None:
    for message in messages:
        respond(response_type=response_type, replace_original=False, **message.payload())
