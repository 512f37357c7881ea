"""What the outbox needs from a chat service, and how a delivery can fail.

The Slack implementation is `bot.courier.SlackCourier`; the outbox knows only this.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from announcements.content import Content


@dataclass(frozen=True)
class Delivered:
    """Where it went: the conversation and the message's `ts` (None for a user group)."""

    channel: str | None
    ts: str | None


class DeliveryFailed(Exception):
    """Slack said no. `permanent`: retrying cannot help until someone acts on `fix`;
    otherwise retry, after `retry_after` seconds when Slack said how long."""

    def __init__(self, error: str, *, permanent: bool, fix: str = "", retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error, self.permanent, self.fix, self.retry_after = error, permanent, fix, retry_after

    def describe(self) -> str:
        return f"{self.error}: {self.fix}" if self.fix else self.error


class Courier(Protocol):
    def deliver(self, content: Content, key: str, *, check_first: bool, since: datetime) -> Delivered:
        """Send `content` tagged with `key`. With `check_first` (an earlier attempt may
        have reached Slack), look for a message tagged `key` posted since `since` first,
        and answer with it instead of posting again."""
        ...

    def remove_duplicates(self, delivered: Delivered, key: str, since: datetime) -> int:
        """Keep the first message tagged `key` in `delivered`'s conversation, delete the
        others; how many were deleted."""
        ...
