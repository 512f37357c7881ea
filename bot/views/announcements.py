"""The messages the bot posts on its own, as Block Kit, each with a plain-text fallback
(notifications, screen readers) and the metadata that lets the outbox find it again.

Pure functions of `announcements.content` values: the same content always renders the
same message. Times in the channel are the team's; in a DM, the member's own.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block

from announcements.content import Handoff, HandoffDM, HolidayNotice, Reminder, ShiftFacts
from bot.ids import ActionId
from bot.mrkdwn import escape_mrkdwn, fit
from bot.views.message import Message, button, channel_link, context, header, mention, section
from core.timefmt import format_local, format_local_with_year
from schedules.people import Person
from schedules.queries import OnCall
from storage.enums import Role

METADATA_EVENT = "oncall_announcement"
TOPIC_LIMIT = 250


def metadata(key: str) -> dict[str, Any]:
    """Slack message metadata: how a later attempt recognises this message in history."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def key_in(message: dict[str, Any]) -> str | None:
    """The outbox key a message from `conversations.history` carries, if it is ours."""
    data = message.get("metadata") or {}
    payload = data.get("event_payload") or {}
    return payload.get("key") if data.get("event_type") == METADATA_EVENT else None


def handoff_message(content: Handoff) -> Message:
    facts = content.facts
    shift = facts.shift
    tz = facts.team_timezone
    incoming = (
        f"Primary: {mention(shift.primary)}{_was(facts, Role.PRIMARY)}\n"
        f"Secondary: {mention(shift.secondary)}{_was(facts, Role.SECONDARY)}"
    )
    blocks: list[Block] = [
        header(f"Handoff: {facts.team_name}"),
        section(f"*On call {_span(shift, tz)}*\n{incoming}"),
        *_shift_details(facts),
    ]
    blocks += _late(content.late_since, tz)
    people = f"{shift.primary.name} (primary) and {shift.secondary.name} (secondary)"
    text = f"Handoff for {facts.team_name}: {people} {_span(shift, tz)}"
    return Message(escape_mrkdwn(text), blocks)


def handoff_dm_message(content: HandoffDM) -> Message:
    facts, tz = content.facts, content.member.timezone
    other = facts.shift.secondary if content.role == Role.PRIMARY else facts.shift.primary
    other_role = Role.SECONDARY if content.role == Role.PRIMARY else Role.PRIMARY
    lead = (
        f"You are on call now as *{content.role}* for {escape_mrkdwn(facts.team_name)}, {_span(facts.shift, tz)}. "
        f"{other_role.capitalize()}: {mention(other)}."
    )
    blocks: list[Block] = [section(lead), *_shift_details(facts), *_late(content.late_since, tz)]
    return Message(escape_mrkdwn(f"You are on call now as {content.role} for {facts.team_name}"), blocks)


def reminder_message(content: Reminder) -> Message:
    facts, tz = content.facts, content.member.timezone
    span = _span(facts.shift, tz)
    if content.asks_for_swap:
        lead = (
            f":palm_tree: *Holiday swap reminder.* In a week you are on call as *{content.role}* "
            f"for {escape_mrkdwn(facts.team_name)}, {span}, but:"
        )
        lines = [
            f"• {_day(day)}: {escape_mrkdwn(name)}, a public holiday where you live"
            for day, name in content.own_holidays
        ]
        lines += [
            f"• you are away {_day(first)} to {_day(last)}{_reason(reason)}"
            for first, last, reason in content.own_time_off
        ]
        ask = "If you would rather not work then, ask a teammate to take it:"
        value = f"{facts.shift.start.isoformat()}|{content.role}"
        blocks: list[Block] = [
            section(lead + "\n" + "\n".join(lines)),
            section(ask),
            ActionsBlock(elements=[button("Request swap", ActionId.REQUEST_SWAP.for_subject(content.role), value)]),
        ]
        text = f"Holiday swap reminder: your {content.role} shift {span} falls on your holiday or time off"
    else:
        blocks = [
            section(f"In a week you are on call as *{content.role}* for {escape_mrkdwn(facts.team_name)}, {span}.")
        ]
        text = f"Reminder: you are on call as {content.role} in a week, {span}"
    blocks += [*_shift_details(facts), *_late(content.late_since, tz)]
    return Message(escape_mrkdwn(text), blocks)


def holiday_notice_message(content: HolidayNotice) -> Message:
    holiday = escape_mrkdwn(content.holiday)
    lead = f":calendar: *{holiday}* is in a week, {_day(content.day)}: {mention(content.cover)} covers it"
    blocks: list[Block] = [section(lead)]
    if content.shift is not None:
        pair = f"{mention(content.shift.primary)} (primary), {mention(content.shift.secondary)} (secondary)"
        blocks.append(context(f"Holiday rotation. On call that week: {pair}."))
    blocks += _late(content.late_since, content.team_timezone)
    text = f"{content.holiday} ({content.day:%a} {content.day.day} {content.day:%b}): {content.cover.name} covers it"
    return Message(escape_mrkdwn(text), blocks)


def topic(shift: OnCall, handle: str | None) -> str:
    """The channel topic: who is on call, until when. Topics are plain text (Slack neither
    formats nor links them), so markup characters are dropped rather than escaped."""
    group = f" · @{handle}" if handle else ""
    people = f"{shift.primary.name} (primary), {shift.secondary.name} (secondary)"
    text = f"On call: {people} until {format_local(shift.end, shift.team_timezone)}{group}"
    return fit(text.translate({ord(c): None for c in "<>&"}), TOPIC_LIMIT)


def swap_explanation(channel: str) -> Message:
    """What the Request swap button says until swap requests can be made by button."""
    text = (
        "Swap requests by button come with `/oncall swap`, in the next release: then this button asks the "
        f"team to cover your shift. Until then, agree a swap with a teammate in {channel_link(channel)} and ask "
        "an admin to change the schedule (the week is inside the freeze window, so re-planning keeps it as it is)."
    )
    return Message("How to swap this shift", [section(text)])


def _shift_details(facts: ShiftFacts) -> list[Block]:
    blocks: list[Block] = []
    if facts.notes:
        blocks.append(section("*In this shift*\n" + "\n".join(f"• {escape_mrkdwn(note)}" for note in facts.notes)))
    if facts.runbooks:
        books = "\n".join(f"• {escape_mrkdwn(book.pipeline)}: `/runbook {book.slug}`" for book in facts.runbooks)
        blocks.append(section("*Investor pipelines*\n" + books))
    if facts.open_swaps:
        blocks.append(context(f":arrows_counterclockwise: {facts.open_swaps} open swap request(s) for this shift."))
    return blocks


def _was(facts: ShiftFacts, role: Role) -> str:
    if facts.previous is None:
        return ""
    before: Person = facts.previous.primary if role == Role.PRIMARY else facts.previous.secondary
    after = facts.shift.primary if role == Role.PRIMARY else facts.shift.secondary
    return "  _(continues)_" if before.id == after.id else f"  (from {mention(before)})"


def _span(shift: OnCall, timezone: str) -> str:
    return f"from {format_local(shift.start, timezone)} to {format_local_with_year(shift.end, timezone)}"


def _late(late_since: datetime | None, timezone: str) -> Sequence[Block]:
    if late_since is None:
        return []
    return [
        context(f":hourglass: Posted late: this was due {format_local(late_since, timezone)}, while the bot was down.")
    ]


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _reason(reason: str) -> str:
    return f" ({escape_mrkdwn(fit(reason, 200))})" if reason else ""
