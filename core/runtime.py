"""Everything a front end needs, opened once: settings, database, clock.

`open_runtime` also makes a fresh checkout usable with no manual step: the schema is
created, the team file is loaded when the database has no team yet, and every team's
schedule is extended to the planning horizon.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from catalog.loader import load_catalog
from catalog.sync import SyncReport, sync_catalog
from core.clock import Clock, system_clock
from core.settings import Settings
from schedules.generate import HORIZON_WEEKS, extend_schedule
from storage.db import make_engine, session_scope
from storage.models import Team


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock

    def session(self) -> Session:
        """A plain session for reads; use `storage.db.session_scope` for writes."""
        return Session(self.engine, expire_on_commit=False)


def open_runtime(settings: Settings, clock: Clock = system_clock) -> Runtime:
    runtime = Runtime(settings, make_engine(settings.database_url), clock)
    ensure_ready(runtime)
    return runtime


def ensure_ready(runtime: Runtime) -> None:
    """First use loads the team file; every use keeps the schedule a horizon ahead.

    Several instances may start at once on PostgreSQL: the loser of a race hits a unique
    constraint, and what it wanted to write is then already there.
    """
    try:
        with session_scope(runtime.engine) as session:
            if session.exec(select(Team)).first() is None:
                sync_team_file(runtime, session)
            until = runtime.clock() + timedelta(weeks=HORIZON_WEEKS)
            for team in session.exec(select(Team)).all():
                extend_schedule(session, team, until)
    except IntegrityError:
        pass


def sync_team_file(runtime: Runtime, session: Session) -> SyncReport:
    """Validate the configured team file fully, then load it in `session`'s transaction."""
    catalog = load_catalog(runtime.settings.oncall_team_file)
    return sync_catalog(session, catalog, runtime.clock())
