"""Who is asking: the one resolver every listener uses, from the Slack user id Slack
signed, never from anything typed or carried in a button's value."""

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.services import Services
from catalog.queries import resolve_team
from core.errors import OncallError
from storage.models import Member, Team


class NotAMember(OncallError):
    """A Slack user who is not on the team's rotation tried something only members can."""


@dataclass(frozen=True)
class Asker:
    slack_id: str
    team: Team
    member: Member | None
    timezone: str  # what times are shown in: Slack's, else the member's own, else the team's

    def member_or_refuse(self, doing: str) -> Member:
        if self.member is None:
            raise NotAMember(f"you are not on the {self.team.name} rotation, so there is no time off to {doing}")
        return self.member


def resolve_asker(
    session: Session, services: Services, client: WebClient, user_id: str, channel_id: str | None
) -> Asker:
    """The team from the channel or the user's membership; the member, if they are one;
    and their timezone, from Slack's `users.info` or, when Slack cannot say, `team.yaml`."""
    team = resolve_team(session, slack_user=user_id, channel=channel_id)
    member = session.exec(
        select(Member).where(Member.team_id == team.id, Member.slack_id == user_id, Member.active)
    ).first()
    fallback = member.timezone if member is not None else team.timezone
    return Asker(user_id, team, member, services.timezones.timezone_of(client, user_id, fallback=fallback))
