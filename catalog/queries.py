"""Read-side questions about the catalog: which team, which pipeline, who owns it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from catalog.search import Candidate, search
from catalog.sync import current_owners
from core.errors import Ambiguous, NotFound
from core.timefmt import local_date
from schedules.people import Person
from storage.db import existing
from storage.models import Member, Pipeline, Team


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline with its owners on a given day."""

    id: str
    name: str
    team_id: str
    area: str
    audience: str
    run_schedule: str
    sources: tuple[str, ...]
    alert_channel: str
    primary: Person | None
    secondary: Person | None


def teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.id))))


def resolve_team(
    session: Session, name: str | None = None, *, slack_user: str | None = None, channel: str | None = None
) -> Team:
    """The team a request is about: named explicitly, else the channel's team, else the
    asker's team, else the only team there is. Each step is one indexed or tiny query, so
    a request costs the same with 1 team or 500."""
    if name:
        return _team_named(teams(session), name)
    if channel:
        by_channel = session.exec(select(Team).where(Team.channel == channel).limit(2)).all()
        if len(by_channel) == 1:
            return by_channel[0]
    if slack_user:
        member = session.exec(select(Member).where(Member.slack_id == slack_user, col(Member.active))).first()
        if member is not None:
            return existing(session, Team, member.team_id)
    some = session.exec(select(Team).order_by(col(Team.id)).limit(2)).all()
    if len(some) == 1:
        return some[0]
    if not some:
        raise NotFound("no team is configured yet: run `oncall sync`")
    raise Ambiguous(f"which team? one of: {', '.join(team.id for team in teams(session))}")


def _team_named(all_teams: Sequence[Team], name: str) -> Team:
    for team in all_teams:
        if name.strip().lower() in (team.id, team.name.lower()):
            return team
    raise NotFound(f"no team '{name}': known teams are {', '.join(team.id for team in all_teams)}")


def active_pipelines(session: Session) -> list[Pipeline]:
    query = select(Pipeline).where(col(Pipeline.active)).order_by(col(Pipeline.team_id), col(Pipeline.position))
    return list(session.exec(query))


def pipeline_info(session: Session, pipeline_id: str, now: datetime) -> PipelineInfo:
    """The pipeline with the owners in force at `now`: owners change at midnight in the
    pipeline's team's timezone, whoever asks from wherever."""
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None or not pipeline.active:
        raise NotFound(f"no pipeline '{pipeline_id}'")
    team = existing(session, Team, pipeline.team_id)
    owners = current_owners(session, pipeline_id, local_date(now, team.timezone))
    primary = session.get(Member, owners.primary_id) if owners else None
    secondary = session.get(Member, owners.secondary_id) if owners else None
    return PipelineInfo(
        id=pipeline.id,
        name=pipeline.name,
        team_id=pipeline.team_id,
        area=pipeline.area,
        audience=pipeline.audience,
        run_schedule=pipeline.run_schedule,
        sources=tuple(pipeline.sources),
        alert_channel=pipeline.alert_channel,
        primary=Person.of(primary) if primary else None,
        secondary=Person.of(secondary) if secondary else None,
    )


class PipelineNotFound(NotFound):
    """Nothing matched; carries the close names so front ends can offer them."""

    def __init__(self, query: str, suggestions: Sequence[Candidate], known: Sequence[Candidate]) -> None:
        self.query = query
        self.suggestions = tuple(suggestions)
        if suggestions:
            hint = f"did you mean {' or '.join(c.id for c in suggestions)}?"
        else:
            hint = f"known pipelines: {', '.join(c.id for c in known)}"
        super().__init__(f"no pipeline '{query}': {hint}")


class SeveralPipelines(Ambiguous):
    """The words match more than one pipeline; carries them so front ends can list them."""

    def __init__(self, query: str, matches: Sequence[Candidate]) -> None:
        self.query = query
        self.matches = tuple(matches)
        super().__init__(f"'{query}' matches {len(matches)} pipelines: {', '.join(c.id for c in matches)}")


def pick_pipeline(session: Session, query: str) -> str:
    """The id of the one pipeline `query` means, or a helpful refusal."""
    candidates = [Candidate(p.id, p.name) for p in active_pipelines(session)]
    result = search(query, candidates)
    if result.match is not None:
        return result.match.id
    if result.matches:
        raise SeveralPipelines(query, result.matches)
    raise PipelineNotFound(query, result.suggestions, candidates)
