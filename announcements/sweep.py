"""Sending what is due, once: record -> claim -> post -> mark.

A sweep (from the scheduler, `oncall announce`, any instance, any number at once):

1. records a row for every message due in the look-back window that has none yet;
   messages due more than the grace period ago are recorded as skipped, never sent;
2. claims each row ready to send (committed before Slack is called: one instance wins);
3. builds the message from the database as it stands, and delivers it; a retried row
   (an earlier attempt, or a claim taken over from an instance that died) first asks
   Slack whether a message with its key is already there;
4. marks the row sent (or late) with the message's `ts`, and writes the audit entry, in
   one transaction. A transient failure puts the row back with a backoff (Slack's
   Retry-After when given) until its grace period runs out; a permanent one marks it
   failed and logs the fix, once.
"""

import logging
from collections import Counter
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from announcements.content import LATE_AFTER, Content, build
from announcements.courier import Courier, Delivered, DeliveryFailed
from announcements.due import due_between
from storage import outbox
from storage.db import session_scope
from storage.enums import AnnouncementKind, AnnouncementState, AuditAction, FrontEnd
from storage.models import Announcement, Team
from usecases import audit
from usecases.runtime import Runtime

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(days=14)  # how far back a sweep looks for messages never recorded
LOOK_AHEAD = timedelta(days=8)  # how far ahead the next due time is searched
CLAIM_TIMEOUT = timedelta(minutes=2)  # a send takes seconds; a claim this old was abandoned
MAX_BACKOFF = timedelta(minutes=5)
MAX_BATCHES = 100  # of `outbox.BATCH` rows per sweep


@dataclass(frozen=True)
class Scope:
    """Which messages a sweep handles (all by default)."""

    team_id: str | None = None
    kinds: Collection[AnnouncementKind] = ()


@dataclass
class SweepReport:
    outcomes: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        done = sorted((outcome, count) for outcome, count in self.outcomes.items() if count)
        return ", ".join(f"{count} {outcome}" for outcome, count in done) or "nothing due"


@dataclass
class Announcer:
    """One instance's sender; `instance` names its claims."""

    runtime: Runtime
    courier: Courier
    instance: str
    grace: timedelta = timedelta(hours=6)
    workers: int = 8

    def sweep(self, scope: Scope | None = None) -> SweepReport:
        """Everything due now, batch after batch, so a thousand teams' handoffs at one
        minute all go out in this sweep; a row put back for a retry waits for its time."""
        scope = scope or Scope()
        now = self.runtime.clock()
        report = SweepReport()
        report.outcomes["skipped"] += self._record_due(now, scope)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="announce") as pool:
            for _ in range(MAX_BATCHES):
                with self.runtime.session() as session:
                    rows = outbox.claimable(session, now, CLAIM_TIMEOUT, team_id=scope.team_id, kinds=scope.kinds)
                report.outcomes.update(pool.map(self._send_safely, rows))
                if len(rows) < outbox.BATCH:
                    break
        return report

    def next_wake(self) -> datetime | None:
        """The next instant something falls due: a message, a retry, an abandoned claim."""
        now = self.runtime.clock()
        with self.runtime.session() as session:
            teams = list(session.exec(select(Team)))
            dues = due_between(session, teams, now, now + LOOK_AHEAD)
            retry = session.exec(
                select(func.min(Announcement.next_attempt_at)).where(
                    Announcement.state == AnnouncementState.PENDING, col(Announcement.next_attempt_at) > now
                )
            ).first()
            claimed = session.exec(
                select(func.min(Announcement.claimed_at)).where(Announcement.state == AnnouncementState.CLAIMED)
            ).first()
        times = [due.due_at for due in dues[:1]] + [t for t in (retry,) if t is not None]
        if claimed is not None:
            times.append(claimed + CLAIM_TIMEOUT)
        return min(times) if times else None

    def _record_due(self, now: datetime, scope: Scope) -> int:
        with session_scope(self.runtime.engine) as session:
            teams = [t for t in session.exec(select(Team)) if scope.team_id in (None, t.id)]
            dues = [
                due
                for due in due_between(session, teams, now - LOOK_BACK, now)
                if not scope.kinds or due.kind in scope.kinds
            ]
            skipped = [
                row for row in outbox.record(session, dues, now, self.grace) if row.state == AnnouncementState.SKIPPED
            ]
            for row in skipped:
                self._audit(
                    session, row, AuditAction.ANNOUNCEMENT_SKIPPED, f"{row.kind} skipped: {row.last_error}", now
                )
        for team_id, count in Counter(row.team_id for row in skipped).items():
            oldest = min(row.due_at for row in skipped if row.team_id == team_id)
            log.warning(
                "%s: %d messages fell due while the bot was down (oldest %s), more than %s ago: "
                "recorded as skipped, not sent",
                team_id,
                count,
                oldest.isoformat(),
                self.grace,
            )
        return len(skipped)

    def _send_safely(self, row: Announcement) -> str:
        """One row's send; whatever goes wrong stays with that row (retried after the claim
        timeout at worst) and never stops the rest of the sweep."""
        try:
            return self._send(row)
        except Exception:
            log.exception("sending %s failed; it is retried after the claim timeout", row.key)
            return "error"

    def _send(self, row: Announcement) -> str:
        now = self.runtime.clock()
        with session_scope(self.runtime.engine) as session:
            held = outbox.claim(session, row, self.instance, now)
        if held is None:
            return "taken by another instance"
        if now - row.due_at > self.grace:
            return self._give_up(
                row,
                held,
                AnnouncementState.SKIPPED if not held.retried else AnnouncementState.FAILED,
                f"not sent within {self.grace} of its time",
            )
        try:
            with self.runtime.session() as session:
                content = build(session, row, now)
        except Exception as error:  # the database failed, or a bug: put it back for a retry
            log.exception("building %s failed", row.key)
            return self._failed(row, held, DeliveryFailed(repr(error)[:200], permanent=False))
        if content is None:
            return self._give_up(
                row, held, AnnouncementState.SKIPPED, "no longer applies: the shift or its people changed"
            )
        try:
            delivered = self.courier.deliver(content, row.key, check_first=held.retried, since=row.due_at - LATE_AFTER)
        except DeliveryFailed as failure:
            return self._failed(row, held, failure)
        except Exception as error:  # a bug or an outage we did not foresee: retried, never silent
            log.exception("sending %s failed unexpectedly", row.key)
            return self._failed(row, held, DeliveryFailed(repr(error)[:200], permanent=False))
        return self._mark_sent(row, held, content, delivered)

    def _mark_sent(self, row: Announcement, held: outbox.Claim, content: Content, delivered: Delivered) -> str:
        now = self.runtime.clock()
        late = now - row.due_at > LATE_AFTER
        state = AnnouncementState.LATE if late else AnnouncementState.SENT
        with session_scope(self.runtime.engine) as session:
            won = outbox.finish(
                session,
                held,
                state=state,
                sent_at=now,
                channel=delivered.channel,
                message_ts=delivered.ts,
                last_error=None,
            )
            if won:
                where = f" in {delivered.channel}" if delivered.channel else ""
                self._audit(
                    session,
                    row,
                    AuditAction.ANNOUNCEMENT_SENT,
                    f"{row.kind} sent{where}{' late' if late else ''}",
                    now,
                    delivered,
                )
        if not won:  # another instance took the claim over meanwhile: it may have posted too
            try:
                removed = self.courier.remove_duplicates(delivered, row.key, row.due_at - LATE_AFTER)
            except DeliveryFailed as failure:
                log.warning("%s: claim taken over while sending; could not check for a duplicate: %s", row.key, failure)
                return "claim lost"
            log.warning("%s: claim taken over while sending; %d duplicate(s) of ours removed", row.key, removed)
            return "claim lost"
        return state.value

    def _failed(self, row: Announcement, held: outbox.Claim, failure: DeliveryFailed) -> str:
        now = self.runtime.clock()
        if failure.permanent or now - row.due_at > self.grace:
            log.error("%s was not sent (attempt %d): %s", row.key, held.attempt, failure.describe())
            return self._give_up(row, held, AnnouncementState.FAILED, failure.describe())
        wait = timedelta(seconds=failure.retry_after) if failure.retry_after else _backoff(held.attempt)
        with session_scope(self.runtime.engine) as session:
            outbox.finish(
                session,
                held,
                state=AnnouncementState.PENDING,
                next_attempt_at=now + wait,
                last_error=failure.describe(),
            )
        log.info("%s: %s; retrying in %.0f s", row.key, failure.error, wait.total_seconds())
        return "retrying"

    def _give_up(self, row: Announcement, held: outbox.Claim, state: AnnouncementState, reason: str) -> str:
        now = self.runtime.clock()
        action = (
            AuditAction.ANNOUNCEMENT_FAILED if state == AnnouncementState.FAILED else AuditAction.ANNOUNCEMENT_SKIPPED
        )
        with session_scope(self.runtime.engine) as session:
            if outbox.finish(session, held, state=state, last_error=reason):
                self._audit(session, row, action, f"{row.kind} {state}: {reason}", now)
        return state.value

    def _audit(
        self,
        session: Session,
        row: Announcement,
        action: AuditAction,
        summary: str,
        now: datetime,
        delivered: Delivered | None = None,
    ) -> None:
        details: dict[str, str | None] = {"key": row.key, "kind": row.kind.value, "due_at": row.due_at.isoformat()}
        if delivered is not None:
            details |= {"channel": delivered.channel, "ts": delivered.ts}
        member = row.recipient
        audit.record(
            session,
            audit.Actor(FrontEnd.SCHEDULER, self.instance),
            row.team_id,
            action,
            summary,
            now,
            member_id=member,
            details=details,
        )


def _backoff(attempt: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** (attempt - 1)), MAX_BACKOFF)
