"""Alembic migrations: the schema's history, one revision per change (see `storage.schema`)."""
