"""Everything a front end needs, opened once: settings, database, clock.

`open_runtime` also makes a fresh checkout usable with no manual step: the schema is
created, the team file is loaded when the database has no team yet, and every team's
schedule is extended to the planning horizon.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from catalog.loader import load_catalog
from catalog.sync import SyncReport, sync_catalog
from core.clock import Clock, system_clock
from core.errors import OncallError
from core.settings import Settings
from runbooks.document import available_runbooks
from schedules import planner
from storage.db import make_engine, session_scope
from storage.models import Team

log = logging.getLogger(__name__)


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

    A week that cannot be staffed (everyone away) is logged and the schedule stops just
    before it rather than stopping every command. Several instances may start at once on
    PostgreSQL: the loser of a race hits a unique constraint, and what it wanted to write
    is then already there.
    """
    try:
        with session_scope(runtime.engine) as session:
            if session.exec(select(Team)).first() is None:
                sync_team_file(runtime, session)  # its warnings come again from _extend, logged
    except IntegrityError:
        pass
    with runtime.session() as session:
        team_ids = list(session.exec(select(Team.id)))
    for team_id in team_ids:
        _extend(runtime, team_id)


def _extend(runtime: Runtime, team_id: str) -> None:
    now = runtime.clock()
    try:
        with session_scope(runtime.engine) as session:
            team = session.get(Team, team_id)
            assert team is not None
            stopped = planner.extend(session, team, now)
    except IntegrityError:  # another instance extended it first
        return
    except OncallError as error:  # a holiday nobody can cover
        log.error("%s; the schedule stays as it is", error)
        return
    if stopped:
        log.error("%s; the schedule stops just before it", stopped)


def sync_team_file(runtime: Runtime, session: Session) -> SyncReport:
    """Validate the configured team file fully (a pipeline without its run book file
    included), then load it in `session`'s transaction."""
    catalog = load_catalog(runtime.settings.oncall_team_file, runbooks=available_runbooks())
    return sync_catalog(session, catalog, runtime.clock())
