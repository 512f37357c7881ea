"""Who is on call: now, next, the coming shifts, and the fairness table."""

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.ids import BlockId
from bot.mrkdwn import SECTION_LIMIT, chunks, escape_mrkdwn
from bot.views.message import Message, context, header, mention, pages, plain, section, zone_note
from core.text import counted
from core.timefmt import format_local
from schedules.fairness import FairnessReport
from schedules.queries import OnCall
from schedules.report import fairness_table


def now_message(shift: OnCall | None, viewer_tz: str, heading: str = "On call now") -> Message:
    if shift is None:
        return plain(f"*{heading}:* nobody is scheduled. Ask an admin to run `oncall sync`.")
    when = f"until {format_local(shift.end, viewer_tz)}"
    if heading != "On call now":
        when = f"from {format_local(shift.start, viewer_tz)} {when}"
    text = (
        f"*{heading}* for {escape_mrkdwn(shift.team_name)}\n"
        f"Primary: {mention(shift.primary)}   Secondary: {mention(shift.secondary)}\n{when}"
    )
    return Message(
        text=escape_mrkdwn(f"{heading}: {shift.primary.name} (primary), {shift.secondary.name} (secondary)"),
        blocks=[section(text, BlockId.ONCALL_NOW), context(zone_note(viewer_tz))],
    )


def schedule_messages(shifts: Sequence[OnCall], viewer_tz: str, notes: Sequence[Sequence[str]]) -> list[Message]:
    """The coming shifts, each with the holidays and time off inside it; a big team's
    notes can fill more than one message."""
    if not shifts:
        return [plain("No shifts are scheduled in that period.")]
    lines = []
    for shift, shift_notes in zip(shifts, notes, strict=True):
        origin = "" if shift.origin == "rotation" else f"  _({shift.origin})_"
        people = f"{mention(shift.primary)} · {mention(shift.secondary)}"
        lines.append(f"`{format_local(shift.start, viewer_tz)}`  {people}{origin}")
        lines.extend(f"      ↳ {escape_mrkdwn(note)}" for note in shift_notes)
    blocks: list[Block] = [header(f"Schedule: {shifts[0].team_name}")]
    blocks += [section(piece) for piece in chunks("\n".join(lines))]
    legend = "Handoff time, primary · secondary; holidays and time off below each shift."
    blocks.append(context(f"{legend} {zone_note(viewer_tz)}"))
    return pages(f"Schedule for the next {counted(len(shifts), 'shift')}", blocks)


def fairness_messages(team_name: str, weeks: int, report: FairnessReport) -> list[Message]:
    """The same table as `oncall fairness`, in a code block so its columns line up."""
    blocks: list[Block] = [header(f"Fairness: {team_name}, next {counted(weeks, 'week')}")]
    blocks += [section(f"```{piece}```") for piece in chunks(fairness_table(report), SECTION_LIMIT - 6)]
    verdict = "every metric at its limit" if report.at_limit() else "some metrics above their bound"
    return pages(f"Fairness over the next {counted(weeks, 'week')}: {verdict}", blocks)
