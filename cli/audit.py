"""`oncall audit` (who changed what, when) and `oncall db` (the schema, for operators)."""

from datetime import datetime
from typing import Annotated

import typer

from catalog.queries import resolve_team
from cli import render
from cli.common import JsonOption, TeamOption, app, emit, start_runtime
from core.dates import parse_day
from core.settings import Settings
from core.timefmt import local_midnight
from storage import schema
from storage.db import make_engine
from usecases import audit as trail


@app.command()
def audit(
    since: Annotated[str | None, typer.Option("--since", help="From this day on (team time), YYYY-MM-DD.")] = None,
    member: Annotated[str | None, typer.Option("--member", help="Only changes by, about or moving MEMBER.")] = None,
    team: TeamOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every recorded change: who, when, what, from which front end."""
    first_day = parse_day(since) if since is not None else None
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        start: datetime | None = None if first_day is None else local_midnight(first_day, the_team.timezone)
        rows = trail.entries(session, the_team.id, start, member)
    if as_json:
        emit({"team": the_team.id, "entries": [render.audit_json(row) for row in rows]})
    else:
        typer.echo(render.audit_text(rows, the_team.timezone))


db_app = typer.Typer(help="The database schema (upgraded automatically on every start).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to this release's schema (safe to run while the bot runs)."""
    engine = make_engine(Settings().database_url)
    was = schema.upgrade(engine)
    now = schema.head()
    typer.echo(f"Already at {now}." if was == now else f"Upgraded from {was or 'an empty database'} to {now}.")


@db_app.command("current")
def db_current() -> None:
    """The schema revision the database is at, next to this release's."""
    engine = make_engine(Settings().database_url)
    with engine.connect() as connection:
        at = schema.current(connection)
    typer.echo(f"database: {at or 'not migrated'}; this release: {schema.head()}")
