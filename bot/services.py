"""What listeners need from the outside world, bound to them when they are registered
(Bolt deep-copies its context for lazy listeners, so it cannot carry these)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.users import TimezoneCache
from usecases.runtime import Runtime

Later = Callable[[Callable[[], None]], object]


@dataclass
class Services:
    runtime: Runtime
    #: Runs a callable on Bolt's listener pool, after the ack (and drained on SIGTERM).
    after_ack: Later
    timezones: TimezoneCache = field(default_factory=TimezoneCache)
