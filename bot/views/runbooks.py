"""Run books and pipeline owners, and the buttons offered for a vague pipeline name."""

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock

from bot.ids import ActionId, BlockId
from bot.mrkdwn import chunks, escape_mrkdwn, to_mrkdwn
from bot.views.message import MAX_BUTTONS, Message, button, context, header, mention, pages, section
from catalog.queries import PipelineInfo
from catalog.search import Candidate
from core.timefmt import format_local
from runbooks.lookup import OwnersView, RunbookView


def owners_message(view: OwnersView, viewer_tz: str) -> Message:
    return Message(
        text=f"{view.info.name}: owners and on-call",
        blocks=[header(view.info.name), *_owner_blocks(view, viewer_tz)],
    )


def _owner_blocks(view: OwnersView | RunbookView, viewer_tz: str) -> list[Block]:
    info = view.info
    lines = [f"*Owners:* {mention(info.primary)} (primary), {mention(info.secondary)} (secondary)"]
    if view.on_call is not None:
        lines.append(
            f"*On call now:* {mention(view.on_call.primary)} (primary), {mention(view.on_call.secondary)} "
            f"(secondary) until {format_local(view.on_call.end, viewer_tz)}"
        )
    return [section("\n".join(lines), BlockId.RUNBOOK_OWNERS), context(_facts(info))]


def _facts(info: PipelineInfo) -> str:
    return escape_mrkdwn(
        f"{info.area} · {info.audience} · runs {info.run_schedule} · alerts {info.alert_channel} · "
        f"sources {', '.join(info.sources)}"
    )


def runbook_messages(view: RunbookView, viewer_tz: str) -> list[Message]:
    """The run book with owners on top, cut into messages of at most 50 blocks."""
    runbook = view.runbook
    blocks: list[Block] = [header(runbook.title), *_owner_blocks(view, viewer_tz)]
    for part in runbook.sections:
        if part.level == 2:
            blocks.append(DividerBlock())
        title = f"*{escape_mrkdwn(part.title)}*" if part.level == 2 else f"*_{escape_mrkdwn(part.title)}_*"
        body = to_mrkdwn(part.body)
        blocks += [section(piece) for piece in chunks(f"{title}\n{body}" if body else title)]
    blocks.append(context(f"Last reviewed {runbook.last_reviewed:%Y-%m-%d} · `{runbook.path.name}`"))
    return pages(escape_mrkdwn(f"Run book: {runbook.title}"), blocks)


def runbook_list_messages(pipelines: Sequence[PipelineInfo]) -> list[Message]:
    """All run books grouped by business area."""
    areas: dict[str, list[str]] = {}
    for info in pipelines:
        areas.setdefault(info.area, []).append(
            f"• `{info.id}`  {escape_mrkdwn(info.name)}" + ("  _(investors)_" if info.audience == "investors" else "")
        )
    blocks: list[Block] = [header("Run books")]
    for area, lines in areas.items():
        blocks += [section(piece) for piece in chunks(f"*{escape_mrkdwn(area)}*\n" + "\n".join(lines))]
    blocks.append(context("Open one with `/runbook <pipeline>`; add `share` to post it in the channel."))
    return pages("Run books", blocks)


def pipeline_choices_message(intro: str, choices: Sequence[Candidate]) -> Message:
    """Several matches or typo suggestions, each a button that opens the run book."""
    buttons = [button(c.id, ActionId.OPEN_RUNBOOK.for_subject(c.id), c.id) for c in choices[:MAX_BUTTONS]]
    blocks: list[Block] = [section(intro)]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons, block_id=BlockId.PIPELINE_CHOICES))
    return Message(text=intro, blocks=blocks)
