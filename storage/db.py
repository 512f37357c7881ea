"""Engines, sessions and the writer lock, the same for SQLite and PostgreSQL.

Every write may race another process: several bot instances share one PostgreSQL, a user
double-clicks, Slack retries. So a write transaction takes its lock *before* it reads what
it will change:

- PostgreSQL: `pg_advisory_xact_lock` on a key per lock name (per team for schedule
  writers), held until the transaction ends, so two teams never wait for each other.
- SQLite: the transaction starts with `BEGIN IMMEDIATE`, the database-wide write lock
  (pysqlite would otherwise begin lazily, and a read-then-write would lose updates), with
  a 30 s busy timeout. Plain reads keep a deferred `BEGIN` and never wait for writers (WAL).

`team_writer` is the one way to change a team's schedule; `locked_connection` is the same
lock for work that is not a team's (the schema upgrade, the first load of the team file).
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

Row = TypeVar("Row", bound=SQLModel)
WRITER_OPTION = "oncall_writer"
BUSY_TIMEOUT_SECONDS = 30


def make_engine(url: str) -> Engine:
    """An engine for `url`; the schema is brought up to date by `storage.schema.upgrade`."""
    return _sqlite_engine(url) if url.startswith("sqlite") else create_engine(url, pool_pre_ping=True)


def is_memory_sqlite(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")


def _sqlite_engine(url: str) -> Engine:
    """SQLite shared between threads (the web server's pool), foreign keys enforced, and
    transactions begun by us: `BEGIN IMMEDIATE` for writers, a deferred `BEGIN` for reads."""
    in_memory = is_memory_sqlite(url)
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS}
    if in_memory:  # one shared connection, or every session would see its own empty database
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # pysqlite's own BEGIN is lazy: we issue ours
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        writer = connection.get_execution_options().get(WRITER_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_xact_lock` (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(f"oncall:{name}".encode(), digest_size=8).digest(), "big", signed=True)


def _take_locks(connection: Connection, names: list[str]) -> None:
    """Sorted, so two writers needing the same locks can never deadlock."""
    if connection.dialect.name == "postgresql":
        for name in sorted(set(names)):
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


def writer_engine(engine: Engine) -> Engine:
    """The same engine and pool, whose transactions begin as writers."""
    return engine.execution_options(**{WRITER_OPTION: True})


@contextmanager
def locked_connection(engine: Engine, *names: str) -> Iterator[Connection]:
    """A transaction holding the named locks: committed if the block succeeds."""
    with writer_engine(engine).begin() as connection:
        _take_locks(connection, list(names))
        yield connection


def team_lock_name(team_id: str) -> str:
    return f"team:{team_id}"


@contextmanager
def team_writer(engine: Engine, *team_ids: str) -> Iterator[Session]:
    """The one way to change teams' schedules: the writer lock of each team is taken
    before anything is read, and held until the session commits at the end of the block
    (or rolls back on an error). Never commit inside: that would release the lock."""
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        try:
            _take_locks(session.connection(), [team_lock_name(team_id) for team_id in team_ids])
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes nothing of a team's schedule (receipts, say):
    committed if the block succeeds, rolled back otherwise."""
    with team_writer(engine) as session:
        yield session


def existing(session: Session, model: type[Row], key: object) -> Row:
    """A row a foreign key guarantees: its absence means a broken database, said plainly
    (not an `assert`, which `python -O` would remove)."""
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key!r} is missing, though a foreign key guarantees it")
    return row


def ping(engine: Engine) -> bool:
    """True when the database answers (for /healthz)."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return True
    except Exception:
        return False
