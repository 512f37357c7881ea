"""What listeners need from the outside world, bound to them when they are registered
(Bolt deep-copies its context for lazy listeners, so it cannot carry these)."""

from dataclasses import dataclass, field

from bot.users import TimezoneCache
from usecases.runtime import Runtime


@dataclass
class Services:
    runtime: Runtime
    timezones: TimezoneCache = field(default_factory=TimezoneCache)
