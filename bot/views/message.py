"""The pieces every answer is built from, each cut to Slack's limits where it is made.

`slack_sdk.models.blocks` validates Slack's limits when `to_dict()` runs, so an answer
that would be rejected by Slack fails in our tests; these helpers make sure none can be:
no text over its block's limit, no message over 50 blocks (longer answers are pages).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.mrkdwn import SECTION_LIMIT, escape_mrkdwn, fit
from catalog.schema import is_placeholder
from schedules.people import Person

MAX_BLOCKS = 50  # per message
MAX_BUTTONS = 25  # per actions block
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
NOTIFICATION_LIMIT = 3000  # the `text` shown in notifications; Slack cuts far later
ERROR_ECHO_LIMIT = 500  # a refusal quoting the user stays readable, and escaped fits a section


@dataclass(frozen=True)
class Message:
    """One Slack message: notification text plus blocks."""

    text: str
    blocks: Sequence[Block] = field(default_factory=tuple)

    def payload(self) -> dict[str, Any]:
        return {"text": fit(self.text, NOTIFICATION_LIMIT), "blocks": [block.to_dict() for block in self.blocks]}


def pages(text: str, blocks: Sequence[Block]) -> list[Message]:
    """Blocks cut into messages of at most 50, each with the same notification text."""
    return [Message(text, blocks[i : i + MAX_BLOCKS]) for i in range(0, len(blocks), MAX_BLOCKS)] or [Message(text)]


def mention(person: Person | None) -> str:
    """A mention, or the name in bold for a member whose Slack id is not known yet."""
    if person is None:
        return "_nobody_"
    return f"*{escape_mrkdwn(person.name)}*" if is_placeholder(person.slack_id) else f"<@{person.slack_id}>"


def channel_link(channel: str) -> str:
    """A channel id as a link Slack renders with its name; a `#name` as written."""
    return escape_mrkdwn(channel) if channel.startswith("#") else f"<#{channel}>"


def section(text: str, block_id: str | None = None, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, SECTION_LIMIT)), block_id=block_id, accessory=accessory)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=fit(text, HEADER_LIMIT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit(text, SECTION_LIMIT))])


def button(text: str, action_id: str, value: str, *, danger: bool = False) -> ButtonElement:
    return ButtonElement(
        text=fit(text, BUTTON_TEXT_LIMIT), action_id=action_id, value=value, style="danger" if danger else None
    )


def plain(text: str) -> Message:
    """A one-section answer (errors, confirmations); `text` must already be safe mrkdwn."""
    return Message(text=text, blocks=[section(text)])


def error_message(text: str) -> Message:
    """A refusal, shown as is but cut and escaped: it may quote what the user typed."""
    return plain(f":warning: {escape_mrkdwn(fit(text, ERROR_ECHO_LIMIT))}")


def zone_note(viewer_tz: str) -> str:
    return f"Times in {escape_mrkdwn(viewer_tz)}."
