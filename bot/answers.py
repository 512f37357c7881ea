"""Turn a parsed request into Slack messages by asking the core.

No Bolt types here: the listeners handle Slack's plumbing, these functions only decide
what to say. Domain errors propagate to the app's single error handler.
"""

from collections.abc import Callable

from sqlmodel import Session, select

from bot import blocks
from bot.blocks import Message
from bot.mrkdwn import escape_mrkdwn
from bot.parsing import Away, Fairness, Help, MentionRequest, Next, Now, RunbookList, Schedule, ShowRunbook, Who
from catalog.queries import PipelineNotFound, SeveralPipelines, active_pipelines, pipeline_info
from core.errors import OncallError
from runbooks.lookup import owners_view, runbook_view
from schedules import planner
from schedules.annotations import shift_notes
from schedules.queries import next_on_call, on_call_at, shifts_between
from storage.models import Member, Team
from usecases import time_off
from usecases.audit import Actor
from usecases.runtime import Runtime


def answer(
    session: Session, request: MentionRequest, team: Team, runtime: Runtime, viewer_tz: str, user_id: str
) -> list[Message]:
    """The messages answering `request` (several only for long run books)."""
    now = runtime.clock()
    match request:
        case Now():
            return [blocks.now_message(on_call_at(session, team, now), viewer_tz)]
        case Next():
            return [blocks.now_message(next_on_call(session, team, now), viewer_tz, heading="Next on call")]
        case Schedule(weeks=weeks):
            shifts = shifts_between(session, team, now, weeks)
            return [blocks.schedule_message(shifts, viewer_tz, shift_notes(session, team, shifts))]
        case Away():
            return [_record_away(session, request, team, runtime, user_id, viewer_tz)]
        case Fairness():
            horizon = planner.fairness_horizon(session, team, now)
            report = planner.fairness(session, horizon, now)
            return [blocks.fairness_message(team.name, horizon.count, report)]
        case Who(query=query):
            return _or_choices(lambda: [blocks.owners_message(owners_view(session, query, now), viewer_tz)])
        case RunbookList():
            infos = [pipeline_info(session, p.id, now) for p in active_pipelines(session)]
            return [blocks.runbook_list_message(infos)]
        case ShowRunbook(query=query):
            return _or_choices(lambda: blocks.runbook_messages(runbook_view(session, query, now), viewer_tz))
        case Help(problem=problem):
            return [blocks.help_message(problem)]


def _or_choices(build: Callable[[], list[Message]]) -> list[Message]:
    """A vague or misspelt pipeline name gets buttons for what it might mean."""
    try:
        return build()
    except SeveralPipelines as several:
        intro = f"`{escape_mrkdwn(several.query)}` matches {len(several.matches)} pipelines. Which one?"
        return [blocks.pipeline_choices_message(intro, several.matches)]
    except PipelineNotFound as missing:
        if not missing.suggestions:
            raise
        names = " or ".join(f"`{c.id}`" for c in missing.suggestions)
        intro = f"No pipeline `{escape_mrkdwn(missing.query)}`: did you mean {names}?"
        return [blocks.pipeline_choices_message(intro, missing.suggestions)]


def _record_away(
    session: Session, request: Away, team: Team, runtime: Runtime, user_id: str, viewer_tz: str
) -> Message:
    """Book the asker's own time off (the Slack user id decides who; nothing typed can)."""
    member = session.exec(
        select(Member).where(Member.team_id == team.id, Member.slack_id == user_id, Member.active)
    ).first()
    if member is None:
        raise OncallError(f"you are not on the {team.name} rotation, so there is no time off to book")
    actor = Actor.slack(user_id, member.id)
    result = time_off.book(runtime, actor, member.id, request.first, request.last, request.reason)
    names = {m.id: m.name for m in session.exec(select(Member).where(Member.team_id == team.id))}
    return blocks.away_message(member.name, request.first, request.last, result, names, viewer_tz)
