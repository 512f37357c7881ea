"""`oncall away`: book time off, list it, take it back."""

from typing import Annotated

import typer

from catalog.queries import resolve_team
from cli import render
from cli.common import TeamOption, app, names, start_runtime
from core.dates import parse_day
from core.errors import OncallError
from usecases import time_off
from usecases.audit import Actor

USAGE = "give MEMBER FIRST [LAST], or --list [MEMBER], or --cancel ID"


@app.command()
def away(
    member: Annotated[str | None, typer.Argument(help="Member id.", show_default=False)] = None,
    first_day: Annotated[str | None, typer.Argument(help="First day away, YYYY-MM-DD.", show_default=False)] = None,
    last_day: Annotated[
        str | None, typer.Argument(help="Last day away (included); default: the first day.", show_default=False)
    ] = None,
    reason: Annotated[str, typer.Option(help="Shown to the team.")] = "",
    list_: Annotated[bool, typer.Option("--list", help="List upcoming time off (of MEMBER, or everyone's).")] = False,
    cancel: Annotated[int | None, typer.Option("--cancel", help="Cancel the booking with this id.")] = None,
    team: TeamOption = None,
) -> None:
    """Record time off (then regenerate the affected future and show what changed), list it, or cancel it."""
    if list_:
        _list(member, team)
    elif cancel is not None:
        _cancel(cancel)
    elif member is not None and first_day is not None:
        _book(member, first_day, last_day or first_day, reason)
    else:
        raise OncallError(f"`oncall away`: {USAGE}")


def _book(member: str, first_text: str, last_text: str, reason: str) -> None:
    first, last = parse_day(first_text), parse_day(last_text)  # bad input fails before any I/O
    runtime = start_runtime()
    result = time_off.book(runtime, Actor.terminal(), member, first, last, reason)
    with runtime.session() as session:
        people = names(session, result.team.id)
    typer.echo(f"Recorded #{result.booking.id}: {member} away {first} to {last}.")
    typer.echo(render.time_off_text(result, people))


def _cancel(booking_id: int) -> None:
    runtime = start_runtime()
    result = time_off.cancel(runtime, Actor.terminal(), booking_id)
    with runtime.session() as session:
        people = names(session, result.team.id)
    off = result.booking
    typer.echo(f"Cancelled #{booking_id}: {off.member_id} away {off.first_day} to {off.last_day}.")
    typer.echo(render.time_off_text(result, people))


def _list(member: str | None, team: str | None) -> None:
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        people = names(session, the_team.id)
    typer.echo(render.bookings_text(time_off.upcoming(runtime, the_team, member), people))
