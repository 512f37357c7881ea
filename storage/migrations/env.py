"""Alembic's entry point. Always run through `storage.schema`, which hands it a connection
already inside a transaction holding the schema lock: no `fileConfig` (it would disable
every logger the bot created before the upgrade), no engine of its own."""

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite alters tables by copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run migrations through `oncall db upgrade` (storage.schema), which provides the connection")
_run(_connection)
