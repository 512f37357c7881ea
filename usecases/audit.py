"""The audit trail: who changed what, when, from where. Written by every use case in the
same transaction as its change, so a change and its record stand or fall together."""

import getpass
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from schedules.planner import Change
from storage.enums import AuditAction, FrontEnd
from storage.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: a Slack user id, the terminal's login, the team file."""

    front_end: FrontEnd
    id: str
    member_id: str | None = None

    @classmethod
    def terminal(cls) -> "Actor":
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers)
            login = "unknown"
        return cls(FrontEnd.TERMINAL, login)

    @classmethod
    def slack(cls, user_id: str, member_id: str | None) -> "Actor":
        return cls(FrontEnd.SLACK, user_id, member_id)

    def describe(self) -> str:
        return f"{self.front_end} {self.id}"


START = Actor(FrontEnd.START, "oncall")


def record(
    session: Session,
    actor: Actor,
    team_id: str,
    action: AuditAction,
    summary: str,
    now: datetime,
    *,
    member_id: str | None = None,
    details: dict[str, Any] | None = None,
    changes: Sequence[Change] = (),
) -> AuditEntry:
    """One entry for the change, then one per shift whose people it changed."""
    entry = AuditEntry(
        team_id=team_id,
        at=now,
        front_end=actor.front_end,
        actor=actor.id,
        action=action,
        member_id=member_id or actor.member_id,
        summary=summary,
        details=(details or {}) | ({"shifts_changed": len(changes)} if changes else {}),
    )
    session.add(entry)
    session.flush()
    session.add_all(_shift_entries(entry, changes))
    session.flush()
    return entry


def _shift_entries(cause: AuditEntry, changes: Iterable[Change]) -> list[AuditEntry]:
    return [
        AuditEntry(
            team_id=cause.team_id,
            at=cause.at,
            front_end=cause.front_end,
            actor=cause.actor,
            action=AuditAction.SHIFT_CHANGED,
            summary=_shift_summary(change),
            details={
                "start": change.start.isoformat(),
                "before": list(change.before) if change.before else None,
                "after": list(change.after),
            },
            cause_id=cause.id,
        )
        for change in changes
    ]


def _shift_summary(change: Change) -> str:
    before = "new" if change.before is None else " / ".join(change.before)
    return f"shift {change.start:%Y-%m-%d %H:%M} UTC: {before} -> {' / '.join(change.after)}"


def entries(
    session: Session, team_id: str, since: datetime | None = None, member_id: str | None = None
) -> list[AuditEntry]:
    """The team's entries, oldest first; `member_id` keeps those done by, about, or moving
    that member (a shift they joined or left)."""
    query = select(AuditEntry).where(AuditEntry.team_id == team_id)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    rows = session.exec(query.order_by(col(AuditEntry.at), col(AuditEntry.id))).all()
    return [row for row in rows if member_id is None or _concerns(row, member_id)]


def _concerns(entry: AuditEntry, member_id: str) -> bool:
    people = [*(entry.details.get("before") or []), *(entry.details.get("after") or [])]
    return member_id in (entry.member_id, *people)
