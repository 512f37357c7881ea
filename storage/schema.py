"""The schema, managed by Alembic: upgraded on every start, safely from several processes.

`upgrade` runs inside one transaction holding the schema lock (see `storage.db`), so
three or eight processes starting at once on an empty database queue up: the first
creates the tables, the others find them current. A database made before migrations
existed (tables, no `alembic_version`) is recognised and stamped at the baseline, never
recreated. `first_use` lets the caller do more in the same transaction (the first load of
the team file), so a failed first run leaves no half-made database behind.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from storage.db import locked_connection

log = logging.getLogger(__name__)
logging.getLogger("alembic").setLevel(logging.WARNING)  # one line of ours instead of Alembic's chatter
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
SCHEMA_LOCK = "schema"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision this release knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return revision


def current(connection: Connection) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """True when the database is at this release's head (a plain read, no lock)."""
    with engine.connect() as connection:
        return current(connection) == head()


def upgrade(engine: Engine, then: Callable[[Connection], None] | None = None) -> str | None:
    """Bring the schema to head under the schema lock; return the revision it was at.

    `then(connection)` runs in the same transaction and lock (the first load of the team
    file): an exception there undoes the upgrade as well."""
    target = head()
    with locked_connection(engine, SCHEMA_LOCK) as connection:
        was = current(connection)
        tables = set(inspect(connection).get_table_names())
        if was is None and "team" in tables:
            command.stamp(_config(connection), BASELINE)  # made by `create_all` before migrations
            was = BASELINE
        if was != target:
            command.upgrade(_config(connection), "head")
        if then is not None:
            then(connection)
    if was != target:  # said once committed: a failed first load undoes the upgrade too
        log.info("database schema upgraded from %s to %s", was or "nothing", target)
    return was
