"""Events answered once: Slack retries a delivery it thinks went unanswered (with
`X-Slack-Retry-Num`), possibly to another instance, so the first delivery of an
`event_id` is recorded in the shared database and every later one is a no-op."""

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from storage.models import EventReceipt

# Slack retries three times within minutes; a day is ample and keeps the table small.
KEEP_FOR = timedelta(days=1)


def first_delivery(engine: Engine, event_id: str, at: datetime) -> bool:
    """True the first time `event_id` is seen, on any instance. Committed at once, in a
    transaction of its own: a concurrent duplicate waits on the key and then finds it."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(EventReceipt)
        .values(event_id=event_id, received_at=at)
        .on_conflict_do_nothing()
        .returning(col(EventReceipt.event_id))
    )
    with Session(engine) as session:
        inserted = session.connection().execute(statement).first() is not None
        session.exec(delete(EventReceipt).where(col(EventReceipt.received_at) < at - KEEP_FOR))
        session.commit()
    return inserted
