"""What the bot can do, shown for `help` and for anything it does not understand."""

from slack_sdk.models.blocks import Block

from bot.mrkdwn import escape_mrkdwn
from bot.views.message import Message, section

ONCALL_HELP = """*`/oncall`* — who is on call
• `/oncall` or `/oncall now` — the current primary and secondary
• `/oncall next` — who takes over at the next handoff
• `/oncall schedule [weeks]` — the coming shifts (default 4 weeks)
• `/oncall who <pipeline>` — a pipeline's owners and its team's on-call
• `/oncall away <first day> [last day] [reason]` — book your time off, e.g. `2027-03-01 2027-03-05 ski`
   (the schedule is redrawn around it)
• `/oncall away list` — your upcoming time off, each with a Cancel button
• `/oncall fairness` — how evenly the next year's load is shared, next to the best possible
• `/oncall help` — this help
*`/runbook`* — run books
• `/runbook` — every run book, by business area
• `/runbook <pipeline>` — a run book (words or typos are fine: `growth`, `agregate-growht`)
• `/runbook <pipeline> share` — post it in the channel for everyone
Mention me too: `@oncall who is on call`, `@oncall runbook aggregate-profit`."""


def help_message(problem: str | None = None) -> Message:
    """`problem` is why help is shown; it may quote the user, already shortened."""
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":warning: {escape_mrkdwn(problem)}"))
    blocks.append(section(ONCALL_HELP))
    return Message(text=escape_mrkdwn(problem or "How to use oncall"), blocks=blocks)
