"""`oncall announce` (run a job once, as if at an instant), `oncall announcements` (what
went out, what is coming) and `oncall worker` (only the scheduler, no HTTP)."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from announcements.due import due_between
from announcements.sweep import LOOK_AHEAD, LOOK_BACK, Scope
from catalog.queries import resolve_team
from cli.common import JsonOption, TeamOption, app, emit, names, start_runtime
from core.clock import fixed_clock
from core.errors import OncallError
from core.settings import Settings, require
from core.texttable import table
from core.timefmt import format_local
from storage import outbox
from storage.enums import AnnouncementKind, AnnouncementState
from storage.models import Team
from usecases.runtime import open_runtime


class Job(StrEnum):
    HANDOFF = "handoff"
    REMINDERS = "reminders"
    HOLIDAYS = "holidays"


KINDS = {
    Job.HANDOFF: (
        AnnouncementKind.HANDOFF,
        AnnouncementKind.HANDOFF_DM,
        AnnouncementKind.ONCALL_GROUP,
        AnnouncementKind.TOPIC,
    ),
    Job.REMINDERS: (AnnouncementKind.REMINDER,),
    Job.HOLIDAYS: (AnnouncementKind.HOLIDAY,),
}


def parse_instant(text: str) -> datetime:
    """ISO-8601 with an offset or `Z` (`2026-12-07T15:00Z`); without one, UTC."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise OncallError(f"{text!r} is not an ISO-8601 instant (e.g. 2026-12-07T15:00Z)") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@app.command()
def announce(
    job: Annotated[Job, typer.Argument(help="Which messages: handoff, reminders or holidays.")],
    team: TeamOption = None,
    at: Annotated[str | None, typer.Option("--at", help="As if at this instant (ISO-8601; default now).")] = None,
) -> None:
    """Send what is due at or before the instant and not sent yet (safe to repeat, even at once)."""
    from bot.announcing import slack_announcer  # the Slack client is only for commands that post

    settings = Settings()
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    instant = parse_instant(at) if at is not None else None
    runtime = open_runtime(settings, fixed_clock(instant)) if instant else start_runtime(settings)
    with runtime.session() as session:
        team_id = resolve_team(session, team).id if team is not None else None
    report = slack_announcer(runtime, token).sweep(Scope(team_id, KINDS[job]))
    typer.echo(f"{job}: {report.describe()}")
    if report.outcomes[AnnouncementState.FAILED.value]:
        raise typer.Exit(code=1)


@app.command()
def announcements(team: TeamOption = None, as_json: JsonOption = False) -> None:
    """Messages of the last two weeks with their state, and those due in the next eight days."""
    runtime = start_runtime()
    now = runtime.clock()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        rows = outbox.recent(session, now - LOOK_BACK, the_team.id)
        recorded = {row.key for row in rows}
        upcoming = due_between(session, [the_team], now, now + LOOK_AHEAD)
        people = names(session, the_team.id)
    coming = [due for due in upcoming if due.key not in recorded]
    entries = [_row(row.due_at, row.kind, row.recipient, row.state, row.attempts, row.last_error) for row in rows]
    entries += [_row(due.due_at, due.kind, due.recipient, "upcoming", 0, None) for due in coming]
    entries.sort(key=lambda entry: entry["due_at"])
    if as_json:
        emit({"team": the_team.id, "announcements": entries})
        return
    typer.echo(_text(entries, the_team, people))


def _row(
    due_at: datetime, kind: str, recipient: str | None, state: str, attempts: int, error: str | None
) -> dict[str, Any]:
    return {
        "due_at": due_at.isoformat(),
        "kind": str(kind),
        "recipient": recipient,
        "state": str(state),
        "attempts": attempts,
        "last_error": error,
    }


def _text(entries: list[dict[str, Any]], team: Team, people: dict[str, str]) -> str:
    if not entries:
        return "Nothing was due in the last two weeks, and nothing is due in the next eight days."
    rows = [
        [
            format_local(datetime.fromisoformat(entry["due_at"]), team.timezone),
            entry["kind"],
            people.get(entry["recipient"] or "", "channel"),
            entry["state"],
            (entry["last_error"] or "")[:60],
        ]
        for entry in entries
    ]
    return table(["due", "kind", "to", "state", "last error"], rows)


@app.command()
def worker() -> None:
    """Only the scheduler (handoffs, reminders, notices), for deployments that run it apart from `serve`."""
    from bot.server import work

    work(Settings())
