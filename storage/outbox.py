"""The outbox's rows: recorded once per key, claimed by one instance, then marked.

Every step is a conditional statement that only one process can win, the same on
PostgreSQL and SQLite, so no lock is held while Slack is called:

- `record` inserts each due message's row unless its key exists (`ON CONFLICT DO
  NOTHING`): a second instance, or a rerun, records nothing new.
- `claim` moves a row to `claimed` only if it is still what the claimer read (same state,
  same attempt count): of two instances, exactly one gets a row count of 1. A claim older
  than the claim timeout (its instance died mid-send) can be taken over the same way.
- `finish` marks the row only while the claim is still the caller's; a caller that lost
  its claim to a takeover learns it (and must check for a duplicate post).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.enums import AnnouncementKind, AnnouncementState
from storage.models import Announcement

ERROR_LIMIT = 500  # characters of a Slack error kept on the row
# Rows per statement: 10 parameters each stays far below SQLite's 32,766 and psycopg's 65,535.
BATCH = 500


@dataclass(frozen=True)
class Due:
    """A message that should exist: its key decides whether it already does."""

    key: str
    team_id: str
    kind: AnnouncementKind
    subject: str
    recipient: str | None
    due_at: datetime


@dataclass(frozen=True)
class Claim:
    """A row this instance holds: `attempt` is its attempt number (1 for the first);
    `retried` says an earlier attempt may already have reached Slack."""

    id: int
    key: str
    attempt: int
    instance: str
    taken_over: bool

    @property
    def retried(self) -> bool:
        return self.attempt > 1 or self.taken_over


def record(session: Session, dues: Sequence[Due], now: datetime, grace: timedelta) -> list[Announcement]:
    """Insert the rows not recorded yet and return them: pending at their due time, or
    skipped when their time passed more than `grace` ago (the bot was down)."""
    known = _existing_keys(session, [due.key for due in dues])
    fresh = [_new_row(due, now, grace) for due in dues if due.key not in known]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    keys: list[str] = []
    for batch in _batches(fresh):  # a database caps the parameters of one statement
        statement = insert(Announcement).values(batch).on_conflict_do_nothing(index_elements=["key"])
        keys += session.connection().execute(statement.returning(col(Announcement.key))).scalars()
    return [
        row
        for batch in _batches(keys)
        for row in session.exec(select(Announcement).where(col(Announcement.key).in_(batch)))
    ]


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of `keys` have a row: most sweeps find every due message recorded already."""
    found: set[str] = set()
    for batch in _batches(keys):
        found.update(session.exec(select(Announcement.key).where(col(Announcement.key).in_(batch))))
    return found


T = TypeVar("T")


def _batches(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def _new_row(due: Due, now: datetime, grace: timedelta) -> dict[str, object]:
    missed = now - due.due_at > grace
    return {
        "key": due.key,
        "team_id": due.team_id,
        "kind": due.kind.value,
        "subject": due.subject,
        "recipient": due.recipient,
        "due_at": due.due_at,
        "state": (AnnouncementState.SKIPPED if missed else AnnouncementState.PENDING).value,
        "attempts": 0,
        "next_attempt_at": None if missed else due.due_at,
        "last_error": f"missed by more than {grace}: the bot was not running" if missed else None,
    }


def claimable(
    session: Session,
    now: datetime,
    claim_timeout: timedelta,
    *,
    team_id: str | None = None,
    kinds: Collection[AnnouncementKind] = (),
    limit: int = BATCH,
) -> list[Announcement]:
    """Rows ready to send, oldest due first: pending and due for an attempt, or claimed by
    an instance that has not finished within the claim timeout; of one team or some kinds
    when asked."""
    query = (
        select(Announcement)
        .where(
            or_(
                (col(Announcement.state) == AnnouncementState.PENDING) & (col(Announcement.next_attempt_at) <= now),
                (col(Announcement.state) == AnnouncementState.CLAIMED)
                & (col(Announcement.claimed_at) < now - claim_timeout),
            )
        )
        .order_by(col(Announcement.due_at), col(Announcement.id))
        .limit(limit)
    )
    if team_id is not None:
        query = query.where(Announcement.team_id == team_id)
    if kinds:
        query = query.where(col(Announcement.kind).in_([kind.value for kind in kinds]))
    return list(session.exec(query))


def claim(session: Session, row: Announcement, instance: str, now: datetime) -> Claim | None:
    """Take `row` as it was read, or None when another instance changed it first."""
    if row.id is None:
        raise ValueError("only a stored row can be claimed")
    statement = (
        update(Announcement)
        .where(
            col(Announcement.id) == row.id,
            col(Announcement.state) == row.state,
            col(Announcement.attempts) == row.attempts,
        )
        .values(state=AnnouncementState.CLAIMED, claimed_by=instance, claimed_at=now, attempts=row.attempts + 1)
    )
    if session.connection().execute(statement).rowcount != 1:
        return None
    return Claim(row.id, row.key, row.attempts + 1, instance, row.state == AnnouncementState.CLAIMED)


def finish(session: Session, held: Claim, **values: object) -> bool:
    """Set `values` on the claimed row, if the claim is still `held`; False when another
    instance took it over meanwhile."""
    if values.get("last_error") is not None:
        values["last_error"] = str(values["last_error"])[:ERROR_LIMIT]
    statement = (
        update(Announcement)
        .where(
            col(Announcement.id) == held.id,
            col(Announcement.state) == AnnouncementState.CLAIMED,
            col(Announcement.claimed_by) == held.instance,
            col(Announcement.attempts) == held.attempt,
        )
        .values(**values)
    )
    return bool(session.connection().execute(statement).rowcount == 1)


def recent(session: Session, since: datetime, team_id: str | None = None, limit: int = 200) -> list[Announcement]:
    """Rows due since `since`, newest first (for `oncall announcements`)."""
    query = select(Announcement).where(col(Announcement.due_at) >= since)
    if team_id is not None:
        query = query.where(Announcement.team_id == team_id)
    return list(session.exec(query.order_by(col(Announcement.due_at).desc(), col(Announcement.id)).limit(limit)))


def oldest_overdue(session: Session, now: datetime) -> Announcement | None:
    """The oldest row that should have gone out and has not (for `/healthz`)."""
    query = (
        select(Announcement)
        .where(
            col(Announcement.state).in_([AnnouncementState.PENDING, AnnouncementState.CLAIMED]),
            col(Announcement.due_at) <= now,
        )
        .order_by(col(Announcement.due_at))
        .limit(1)
    )
    return session.exec(query).first()
