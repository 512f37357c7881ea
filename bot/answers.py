"""Turn a parsed request into Slack messages by asking the core.

No Bolt types here: the listeners handle Slack's plumbing, these functions only decide
what to say. Domain errors propagate to the one error path (`bot.failures`).
"""

from collections.abc import Callable

from sqlmodel import Session, select

from bot.asker import Asker
from bot.mrkdwn import escape_mrkdwn, shorten
from bot.parsing import (
    Away,
    AwayList,
    Fairness,
    Help,
    MentionRequest,
    Next,
    Now,
    RunbookList,
    Schedule,
    ShowRunbook,
    Who,
)
from bot.views import away, oncall, runbooks
from bot.views.help import help_message
from bot.views.message import Message
from catalog.queries import PipelineNotFound, SeveralPipelines, active_pipelines, pipeline_info
from runbooks.lookup import owners_view, runbook_view
from schedules import planner
from schedules.absences import upcoming_time_off
from schedules.annotations import shift_notes
from schedules.queries import next_on_call, on_call_at, shifts_between
from storage.models import Member
from usecases import time_off
from usecases.audit import Actor
from usecases.runtime import Runtime


def answer(session: Session, request: MentionRequest, asker: Asker, runtime: Runtime) -> list[Message]:
    """The messages answering `request`: one, or pages of at most 50 blocks each."""
    now, team, tz = runtime.clock(), asker.team, asker.timezone
    match request:
        case Now():
            return [oncall.now_message(on_call_at(session, team, now), tz)]
        case Next():
            return [oncall.now_message(next_on_call(session, team, now), tz, heading="Next on call")]
        case Schedule(weeks=weeks):
            shifts = shifts_between(session, team, now, weeks)
            return oncall.schedule_messages(shifts, tz, shift_notes(session, team, shifts))
        case Away():
            return book_away(session, request, asker, runtime)
        case AwayList():
            member = asker.member_or_refuse("list")
            return [away.bookings_message(upcoming_time_off(session, [member.id], now, team.timezone))]
        case Fairness():
            horizon = planner.fairness_horizon(session, team, now)
            return oncall.fairness_messages(team.name, horizon.count, planner.fairness(session, horizon, now))
        case Who(query=query):
            return _or_choices(lambda: [runbooks.owners_message(owners_view(session, query, now), tz)])
        case RunbookList():
            infos = [pipeline_info(session, p.id, now) for p in active_pipelines(session)]
            return runbooks.runbook_list_messages(infos)
        case ShowRunbook(query=query):
            return _or_choices(lambda: runbooks.runbook_messages(runbook_view(session, query, now), tz))
        case Help(problem=problem):
            return [help_message(problem)]


def book_away(session: Session, request: Away, asker: Asker, runtime: Runtime) -> list[Message]:
    """Book the asker's own time off (the signed Slack user id decides who; nothing typed can)."""
    member = asker.member_or_refuse("book")
    actor = Actor.slack(asker.slack_id, member.id)
    _end_read(session)
    result = time_off.book(runtime, actor, member.id, request.first, request.last, request.reason)
    return away.booked_messages(member.name, result, _names(session, asker), asker.timezone)


def cancel_away(session: Session, booking_id: int, asker: Asker, runtime: Runtime) -> list[Message]:
    """Cancel one of the asker's own bookings; anyone else's is refused by the use case."""
    member = asker.member_or_refuse("cancel")
    actor = Actor.slack(asker.slack_id, member.id)
    _end_read(session)
    result = time_off.cancel(runtime, actor, booking_id, as_member=member.id)
    return away.cancelled_messages(result, _names(session, asker), asker.timezone)


def _end_read(session: Session) -> None:
    """Nothing read so far is written back; ending the read gives its connection back to
    the pool while the use case waits for the team's writer lock on one of its own (ten
    bookings queued on that lock would otherwise hold twenty), and what is read after it
    sees what it committed."""
    session.commit()


def _names(session: Session, asker: Asker) -> dict[str, str]:
    return {m.id: m.name for m in session.exec(select(Member).where(Member.team_id == asker.team.id))}


def _or_choices(build: Callable[[], list[Message]]) -> list[Message]:
    """A vague or misspelt pipeline name gets buttons for what it might mean."""
    try:
        return build()
    except SeveralPipelines as several:
        intro = f"`{escape_mrkdwn(shorten(several.query))}` matches {len(several.matches)} pipelines. Which one?"
        return [runbooks.pipeline_choices_message(intro, several.matches)]
    except PipelineNotFound as missing:
        if not missing.suggestions:
            raise
        names = " or ".join(f"`{c.id}`" for c in missing.suggestions)
        intro = f"No pipeline `{escape_mrkdwn(shorten(missing.query))}`: did you mean {names}?"
        return [runbooks.pipeline_choices_message(intro, missing.suggestions)]
