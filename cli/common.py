"""What every terminal command shares: the Typer app, common options, opening the runtime."""

import json
from datetime import date, datetime
from typing import Annotated, Any

import typer
from sqlmodel import Session, select

from core.settings import Settings
from core.timefmt import local_date
from storage.models import Member
from usecases.runtime import Runtime, open_runtime

app = typer.Typer(
    help="On-call schedules and run books for a data team.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

TeamOption = Annotated[str | None, typer.Option("--team", help="Team id (needed only with several teams).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
FromOption = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (team time).")]


def start_runtime() -> Runtime:
    return open_runtime(Settings())


def emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2))


def day(start: datetime | None, timezone: str, runtime: Runtime) -> date:
    return start.date() if start is not None else local_date(runtime.clock(), timezone)


def names(session: Session, team_id: str) -> dict[str, str]:
    return {m.id: m.name for m in session.exec(select(Member).where(Member.team_id == team_id))}
