"""Block Kit for every answer, built by pure functions from core values.

`slack_sdk.models.blocks` validates Slack's limits when `to_dict()` runs, so an answer
that would be rejected by Slack fails in our tests instead.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import ids
from bot.mrkdwn import SECTION_LIMIT, chunks, escape_mrkdwn, to_mrkdwn
from catalog.queries import PipelineInfo
from catalog.search import Candidate
from core.text import counted
from core.timefmt import format_local
from runbooks.lookup import OwnersView, RunbookView
from schedules.absences import TimeOffResult
from schedules.fairness import FairnessReport
from schedules.people import Person
from schedules.planner import FROZEN
from schedules.queries import OnCall
from schedules.report import fairness_table

MAX_BLOCKS = 50  # per message
MAX_BUTTONS = 25  # per actions block


@dataclass(frozen=True)
class Message:
    """One Slack message: notification text plus blocks."""

    text: str
    blocks: Sequence[Block] = field(default_factory=tuple)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}


def mention(person: Person | None) -> str:
    return f"<@{person.slack_id}>" if person else "_nobody_"


def section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text), block_id=block_id)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def plain(text: str) -> Message:
    """A one-section answer (errors, confirmations); `text` must already be safe mrkdwn."""
    return Message(text=text, blocks=[section(text)])


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
        blocks=[section(text, ids.ONCALL_NOW_BLOCK), context(_zone_note(viewer_tz))],
    )


def schedule_message(shifts: Sequence[OnCall], viewer_tz: str, notes: Sequence[Sequence[str]]) -> Message:
    """The coming shifts, each with the holidays and time off inside it."""
    if not shifts:
        return plain("No shifts are scheduled in that period.")
    lines = []
    for shift, shift_notes in zip(shifts, notes, strict=True):
        origin = "" if shift.origin == "rotation" else f"  _({shift.origin})_"
        people = f"{mention(shift.primary)} · {mention(shift.secondary)}"
        lines.append(f"`{format_local(shift.start, viewer_tz)}`  {people}{origin}")
        lines.extend(f"      ↳ {escape_mrkdwn(note)}" for note in shift_notes)
    title = f"Schedule: {shifts[0].team_name}"[:150]
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title))]
    blocks += [section(piece) for piece in chunks("\n".join(lines))]
    legend = "Handoff time, primary · secondary; holidays and time off below each shift."
    blocks.append(context(f"{legend} {_zone_note(viewer_tz)}"))
    return Message(text=f"Schedule for the next {len(shifts)} shifts", blocks=blocks)


def fairness_message(team_name: str, weeks: int, report: FairnessReport) -> Message:
    """The same table as `oncall fairness`, in a code block so its columns line up."""
    title = f"Fairness: {team_name}, next {counted(weeks, 'week')}"[:150]
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title))]
    blocks += [section(f"```{piece}```") for piece in chunks(fairness_table(report), SECTION_LIMIT - 6)]
    verdict = "every metric at its limit" if report.at_limit() else "some metrics above their bound"
    return Message(text=f"Fairness over the next {counted(weeks, 'week')}: {verdict}", blocks=blocks)


def away_message(
    name: str, first: date, last: date, result: TimeOffResult, names: dict[str, str], viewer_tz: str
) -> Message:
    """What booking time off changed, and what still needs a swap."""

    def pair(value: tuple[str, str] | None) -> str:
        return "nobody" if value is None else " / ".join(escape_mrkdwn(names.get(m, m)) for m in value)

    lines = [f"*Time off booked:* {escape_mrkdwn(name)}, {first:%a %d %b %Y} to {last:%a %d %b %Y}."]
    lines += [f"Major holiday moved: {escape_mrkdwn(moved)}" for moved in result.holidays_moved]
    lines += [f"`{format_local(c.start, viewer_tz)}`  {pair(c.before)} → {pair(c.after)}" for c in result.changes]
    if not result.changes:
        lines.append("No shift had to change.")
    lines += [
        f":warning: You are still {role} from `{format_local(start, viewer_tz)}`: {FROZEN}, so ask a teammate to swap."
        for start, role in result.still_on_call
    ]
    text = f"Time off booked: {first} to {last}, {counted(len(result.changes), 'shift')} changed"
    return Message(text=text, blocks=[section(piece) for piece in chunks("\n".join(lines))][:MAX_BLOCKS])


def owners_message(view: OwnersView, viewer_tz: str) -> Message:
    return Message(
        text=f"{view.info.name}: owners and on-call",
        blocks=[
            HeaderBlock(text=PlainTextObject(text=view.info.name[:150])),
            *_owner_blocks(view, viewer_tz),
        ],
    )


def _owner_blocks(view: OwnersView | RunbookView, viewer_tz: str) -> list[Block]:
    info = view.info
    lines = [f"*Owners:* {mention(info.primary)} (primary), {mention(info.secondary)} (secondary)"]
    if view.on_call is not None:
        lines.append(
            f"*On call now:* {mention(view.on_call.primary)} (primary), {mention(view.on_call.secondary)} "
            f"(secondary) until {format_local(view.on_call.end, viewer_tz)}"
        )
    return [section("\n".join(lines), ids.RUNBOOK_OWNERS_BLOCK), context(_facts(info))]


def _facts(info: PipelineInfo) -> str:
    return escape_mrkdwn(
        f"{info.area} · {info.audience} · runs {info.run_schedule} · alerts {info.alert_channel} · "
        f"sources {', '.join(info.sources)}"
    )


def runbook_messages(view: RunbookView, viewer_tz: str) -> list[Message]:
    """The run book with owners on top, cut into messages of at most 50 blocks."""
    runbook = view.runbook
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=runbook.title[:150]))]
    blocks += _owner_blocks(view, viewer_tz)
    for part in runbook.sections:
        if part.level == 2:
            blocks.append(DividerBlock())
        title = f"*{escape_mrkdwn(part.title)}*" if part.level == 2 else f"*_{escape_mrkdwn(part.title)}_*"
        body = to_mrkdwn(part.body)
        blocks += [section(piece) for piece in chunks(f"{title}\n{body}" if body else title)]
    blocks.append(context(f"Last reviewed {runbook.last_reviewed:%Y-%m-%d} · `{runbook.path.name}`"))
    pages = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    return [Message(text=escape_mrkdwn(f"Run book: {runbook.title}"), blocks=page) for page in pages]


def runbook_list_message(pipelines: Sequence[PipelineInfo]) -> Message:
    """All run books grouped by business area."""
    areas: dict[str, list[str]] = {}
    for info in pipelines:
        areas.setdefault(info.area, []).append(
            f"• `{info.id}`  {escape_mrkdwn(info.name)}" + ("  _(investors)_" if info.audience == "investors" else "")
        )
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Run books"))]
    for area, lines in areas.items():
        blocks += [section(piece) for piece in chunks(f"*{escape_mrkdwn(area)}*\n" + "\n".join(lines))]
    blocks.append(context("Open one with `/runbook <pipeline>`; add `share` to post it in the channel."))
    return Message(text="Run books", blocks=blocks[:MAX_BLOCKS])


def pipeline_choices_message(intro: str, choices: Sequence[Candidate]) -> Message:
    """Several matches or typo suggestions, each a button that opens the run book."""
    buttons = [
        ButtonElement(text=c.id[:75], action_id=f"{ids.OPEN_RUNBOOK}:{c.id}", value=c.id) for c in choices[:MAX_BUTTONS]
    ]
    blocks: list[Block] = [section(intro)]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons, block_id=ids.PIPELINE_CHOICES_BLOCK))
    return Message(text=intro, blocks=blocks)


ONCALL_HELP = """*`/oncall`* — who is on call
• `/oncall` or `/oncall now` — the current primary and secondary
• `/oncall next` — who takes over at the next handoff
• `/oncall schedule [weeks]` — the coming shifts (default 4 weeks)
• `/oncall who <pipeline>` — a pipeline's owners and its team's on-call
• `/oncall away <first day> <last day> [reason]` — book your time off, e.g. `2027-03-01 2027-03-05 ski`
   (the schedule is redrawn around it)
• `/oncall fairness` — how evenly the next year's load is shared, next to the best possible
• `/oncall help` — this help
*`/runbook`* — run books
• `/runbook` — every run book, by business area
• `/runbook <pipeline>` — a run book (words or typos are fine: `growth`, `agregate-growht`)
• `/runbook <pipeline> share` — post it in the channel for everyone
Mention me too: `@oncall who is on call`, `@oncall runbook aggregate-profit`."""


def help_message(problem: str | None = None) -> Message:
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":warning: {escape_mrkdwn(problem)}"))
    blocks.append(section(ONCALL_HELP))
    return Message(text=escape_mrkdwn(problem or "How to use oncall"), blocks=blocks)


def error_message(text: str) -> Message:
    """A domain error, shown as is but escaped: it may quote what the user typed."""
    return plain(f":warning: {escape_mrkdwn(text)}")


def _zone_note(viewer_tz: str) -> str:
    return f"Times in {escape_mrkdwn(viewer_tz)}."
