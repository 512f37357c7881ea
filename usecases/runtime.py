"""Everything a front end needs, opened once: settings, database, clock.

`open_runtime` also makes a fresh checkout usable with no manual step: the schema is
migrated to this release, the team file is loaded when the database has no team yet, and
every team's schedule is extended to the planning horizon. Several processes may start at
once on one database: the upgrade and the first load run in one transaction under the
schema lock, and each extension under its team's writer lock, so the later starters find
the work done. A first run that fails (a broken team file) leaves no database behind.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from catalog.loader import load_catalog
from catalog.schema import CatalogFile
from catalog.sync import SyncReport, sync_catalog
from core.clock import Clock, system_clock
from core.errors import OncallError
from core.settings import Settings
from runbooks.document import available_runbooks
from schedules import planner
from storage import schema
from storage.db import is_memory_sqlite, make_engine, team_writer
from storage.enums import AuditAction, FrontEnd
from storage.models import Team
from usecases import audit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock

    def session(self) -> Session:
        """A plain session for reads; writes go through `storage.db.team_writer`."""
        return Session(self.engine, expire_on_commit=False)


def open_runtime(settings: Settings, clock: Clock = system_clock) -> Runtime:
    new_file = _new_sqlite_file(settings.database_url)
    runtime = Runtime(settings, make_engine(settings.database_url), clock)
    try:
        ensure_ready(runtime)
    except BaseException:
        runtime.engine.dispose()
        if new_file is not None:  # nothing half-made stays behind
            for path in (new_file, *(new_file.with_name(new_file.name + end) for end in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
        raise
    return runtime


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist yet."""
    if not url.startswith("sqlite") or is_memory_sqlite(url):
        return None
    database = make_url(url).database
    return None if not database or Path(database).exists() else Path(database)


def ensure_ready(runtime: Runtime) -> None:
    """Migrate and load the team file when needed, then keep each schedule a horizon ahead.

    A week that cannot be staffed (everyone away) is logged and the schedule stops just
    before it rather than stopping every command."""
    if not schema.is_current(runtime.engine) or not _has_team(runtime.engine):
        schema.upgrade(runtime.engine, then=lambda connection: _first_load(runtime, connection))
    with runtime.session() as session:
        teams = list(session.exec(select(Team)))
        due = [team.id for team in teams if planner.needs_extension(session, team, runtime.clock())]
    for team_id in due:
        _extend(runtime, team_id)


def _has_team(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.exec(select(Team.id)).first() is not None


def _first_load(runtime: Runtime, connection: Connection) -> None:
    """Load the team file into an empty database, in the upgrade's own transaction."""
    with Session(bind=connection, expire_on_commit=False) as session:
        if session.exec(select(Team.id)).first() is None:
            actor = audit.Actor(FrontEnd.TEAM_FILE, str(runtime.settings.oncall_team_file))
            record_sync(session, actor, sync_team_file(runtime, session), runtime)
            session.flush()


def _extend(runtime: Runtime, team_id: str) -> None:
    now = runtime.clock()
    try:
        with team_writer(runtime.engine, team_id) as session:
            team = session.get(Team, team_id)
            if team is None:
                return
            changes, stopped = planner.extend(session, team, now)
            if changes:
                summary = f"schedule extended to the horizon ({len(changes)} shifts written)"
                audit.record(session, audit.START, team.id, AuditAction.EXTEND, summary, now, changes=changes)
    except OncallError as error:  # a holiday nobody can cover
        log.error("%s; the schedule stays as it is", error)
        return
    if stopped:
        log.error("%s; the schedule stops just before it", stopped)


def read_team_file(runtime: Runtime) -> CatalogFile:
    """The configured team file, validated fully (a pipeline without its run book file
    included): every problem is refused before anything is locked or written."""
    return load_catalog(runtime.settings.oncall_team_file, runbooks=available_runbooks())


def sync_team_file(runtime: Runtime, session: Session) -> SyncReport:
    """Validate the configured team file, then load it in `session`'s transaction."""
    source = str(runtime.settings.oncall_team_file)
    return sync_catalog(session, read_team_file(runtime), runtime.clock(), source=source)


def record_sync(session: Session, actor: audit.Actor, report: SyncReport, runtime: Runtime) -> None:
    """One audit entry per team of the file when the sync changed anything, with the
    shifts it moved (the report's lines are the file's, not split by team)."""
    if not report.changed and not any(report.shift_changes.values()):
        return
    summary = f"team file synced: {len(report.changes)} changes"
    details = {"changes": report.changes[:100], "warnings": report.warnings[:20]}
    for team_id, changes in report.shift_changes.items():
        audit.record(
            session, actor, team_id, AuditAction.SYNC, summary, runtime.clock(), details=details, changes=changes
        )
