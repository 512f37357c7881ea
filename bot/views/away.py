"""Time off in Slack: what a booking or a cancellation changed, and my bookings with a
Cancel button each."""

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.ids import ActionId, BlockId
from bot.mrkdwn import chunks, escape_mrkdwn
from bot.views.message import MAX_BLOCKS, Message, button, context, header, pages, plain, section
from core.text import counted
from core.timefmt import format_local
from schedules.absences import TimeOffResult
from schedules.planner import FROZEN
from storage.enums import TimeOffOrigin
from storage.models import TimeOff

MAX_LISTED = MAX_BLOCKS - 2  # a header and a footer around them


def booked_messages(name: str, result: TimeOffResult, names: dict[str, str], viewer_tz: str) -> list[Message]:
    """What booking time off changed, and what still needs a swap."""
    off = result.booking
    lines = [f"*Time off booked:* {escape_mrkdwn(name)}, {_days(off)} (#{off.id})."]
    lines += _changes(result, names, viewer_tz)
    lines += [
        f":warning: You are still {role} from `{format_local(start, viewer_tz)}`: {FROZEN}, so ask a teammate to swap."
        for start, role in result.still_on_call
    ]
    lines.append("Changed your mind? `/oncall away list` shows it with a Cancel button.")
    text = f"Time off booked: {off.first_day} to {off.last_day}, {counted(len(result.changes), 'shift')} changed"
    return pages(text, [section(piece) for piece in chunks("\n".join(lines))])


def cancelled_messages(result: TimeOffResult, names: dict[str, str], viewer_tz: str) -> list[Message]:
    off = result.booking
    lines = [f"*Time off cancelled:* {_days(off)} (#{off.id}). You are back in the rotation for those days."]
    lines += _changes(result, names, viewer_tz)
    text = f"Time off #{off.id} cancelled, {counted(len(result.changes), 'shift')} changed"
    return pages(text, [section(piece) for piece in chunks("\n".join(lines))])


def bookings_message(bookings: Sequence[TimeOff]) -> Message:
    """`/oncall away list`: the asker's upcoming time off, soonest first, in one message
    (a Cancel redraws it in place, so it must never be cut into pages)."""
    if not bookings:
        return plain("You have no upcoming time off. Book some with `/oncall away 2027-03-01 2027-03-05 ski`.")
    shown = bookings[:MAX_LISTED]
    blocks: list[Block] = [header("Your upcoming time off"), *(_booking_block(off) for off in shown)]
    footer = "Cancelling redraws the schedule around the days you are back."
    if len(bookings) > len(shown):
        footer = f"{len(bookings) - len(shown)} later ones are not shown: `oncall away --list` has them all. {footer}"
    blocks.append(context(footer))
    return Message(f"Your upcoming time off: {counted(len(bookings), 'booking')}", blocks)


def _booking_block(off: TimeOff) -> Block:
    reason = f"  _{escape_mrkdwn(off.reason)}_" if off.reason else ""
    line = f"`#{off.id}`  {_days(off)}{reason}"
    block_id = f"{BlockId.TIME_OFF}:{off.id}"
    if off.origin == TimeOffOrigin.CATALOG:
        return section(f"{line}\n_from the team file: change it there_", block_id)
    cancel = button("Cancel", ActionId.CANCEL_TIME_OFF.for_subject(str(off.id)), str(off.id), danger=True)
    return section(line, block_id, accessory=cancel)


def _days(off: TimeOff) -> str:
    if off.first_day == off.last_day:
        return f"{off.first_day:%a %d %b %Y}"
    return f"{off.first_day:%a %d %b %Y} to {off.last_day:%a %d %b %Y}"


def _changes(result: TimeOffResult, names: dict[str, str], viewer_tz: str) -> list[str]:
    def pair(value: tuple[str, str] | None) -> str:
        return "nobody" if value is None else " / ".join(escape_mrkdwn(names.get(m, m)) for m in value)

    lines = [f"Major holiday moved: {escape_mrkdwn(moved)}" for moved in result.holidays_moved]
    lines += [f"`{format_local(c.start, viewer_tz)}`  {pair(c.before)} → {pair(c.after)}" for c in result.changes]
    return lines or ["No shift had to change."]
