"""APScheduler decides *when* to sweep; the database decides *whether* anything is sent.

APScheduler's job stores must never be shared between processes, so each instance runs
an in-memory scheduler with two jobs and no state worth keeping:

- `sweep`, every minute and once at start (catching up on what fell due while down);
- `next-due`, a one-off at the next instant something falls due (a handoff at 10:00
  New York fires at 10:00:00, not up to a minute later), recomputed from the shifts in
  the database after every sweep (so a changed schedule counts within a minute).

Several instances sweeping at once is safe: every send is a claim only one can win.
"""

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from announcements.sweep import Announcer

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(seconds=60)


class AnnouncementScheduler:
    def __init__(self, announcer: Announcer, every: timedelta = SWEEP_EVERY) -> None:
        self._announcer = announcer
        self._every = every
        self._scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        self._lock = threading.Lock()
        self._last_sweep: datetime | None = None
        self._last_error: str | None = None
        self._next_due: datetime | None = None

    def start(self) -> None:
        self._scheduler.add_job(
            self._sweep, "interval", seconds=self._every.total_seconds(), id="sweep", next_run_time=datetime.now(UTC)
        )
        self._scheduler.start()
        log.info("announcements: sweeping every %.0f s, and at each due time", self._every.total_seconds())

    def shutdown(self) -> None:
        """Stop, letting a sweep in progress finish its sends (each is claimed: an
        interrupted one would be taken over by the next instance after the claim timeout)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "state": "running" if self._scheduler.running else "stopped",
                "last_sweep": _iso(self._last_sweep),
                "last_error": self._last_error,
                "next_due": _iso(self._next_due),
            }

    def _sweep(self) -> None:
        try:
            report = self._announcer.sweep()
            wake = self._announcer.next_wake()
        except Exception as error:  # the database is down, say: the next sweep tries again
            log.exception("announcement sweep failed")
            with self._lock:
                self._last_error = repr(error)[:300]
            return
        if report.outcomes:
            log.info("announcements: %s", report.describe())
        with self._lock:
            self._last_sweep, self._last_error, self._next_due = datetime.now(UTC), None, wake
        if wake is not None and wake - datetime.now(UTC) < self._every:
            self._scheduler.add_job(self._sweep, "date", run_date=wake, id="next-due", replace_existing=True)


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()
