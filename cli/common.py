"""What every terminal command shares: the Typer app, common options, opening the runtime."""

import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import typer
from sqlmodel import Session, select

from core.clock import Clock, system_clock
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


@dataclass(frozen=True)
class Injected:
    """What an in-process caller (a test) hands the app as Click's `obj`: the clock, so
    the CLI runs on pinned time like every other front end."""

    clock: Clock = system_clock


_clock: ContextVar[Clock] = ContextVar("oncall_cli_clock", default=system_clock)


@app.callback()
def _inject(context: typer.Context) -> None:
    """Runs before every command: takes the clock a caller injected (else the system's)."""
    _clock.set(context.obj.clock if isinstance(context.obj, Injected) else system_clock)


def current_clock() -> Clock:
    return _clock.get()


def start_runtime(settings: Settings | None = None) -> Runtime:
    return open_runtime(settings or Settings(), current_clock())


def emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2))


def day(start: datetime | None, timezone: str, runtime: Runtime) -> date:
    return start.date() if start is not None else local_date(runtime.clock(), timezone)


def names(session: Session, team_id: str) -> dict[str, str]:
    return {m.id: m.name for m in session.exec(select(Member).where(Member.team_id == team_id))}
