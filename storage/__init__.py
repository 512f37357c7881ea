"""Persistence: SQLModel tables, the engine, and the queries the core needs."""
