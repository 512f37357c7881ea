"""People as every front end shows them: plain values, no database session attached."""

from dataclasses import dataclass

from storage.models import Member


@dataclass(frozen=True)
class Person:
    """A member as the front ends show them."""

    id: str
    name: str
    slack_id: str
    timezone: str

    @classmethod
    def of(cls, member: Member) -> "Person":
        return cls(member.id, member.name, member.slack_id, member.timezone)
