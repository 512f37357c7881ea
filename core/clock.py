"""The one place the current time comes from.

Everything that depends on "now" takes a `Clock` so tests can pin time (DST changes,
year boundaries) without patching the standard library.
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, always timezone-aware UTC."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock stuck at `at` (which must be timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("fixed_clock needs a timezone-aware datetime")
    frozen = at.astimezone(UTC)
    return lambda: frozen
