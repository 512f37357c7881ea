"""What listeners need from the outside world, handed to them through Bolt's context."""

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.users import TimezoneCache
from catalog.queries import resolve_team
from storage.models import Team
from usecases.runtime import Runtime

CONTEXT_KEY = "oncall"


@dataclass
class Services:
    runtime: Runtime
    timezones: TimezoneCache = field(default_factory=TimezoneCache)

    def team_for(self, session: Session, user_id: str | None, channel_id: str | None) -> Team:
        return resolve_team(session, slack_user=user_id, channel=channel_id)

    def viewer_timezone(self, client: WebClient, user_id: str, team: Team) -> str:
        return self.timezones.timezone_of(client, user_id, fallback=team.timezone)


def services_of(context: Any) -> Services:
    services = context[CONTEXT_KEY]
    if not isinstance(services, Services):
        raise TypeError("the services middleware did not run")
    return services
