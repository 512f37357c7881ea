"""The quarterly ownership rotation, database side: quarters, proposing and applying.

`catalog.rotation` decides (pure); this module reads its input from the database and
writes its result as `Ownership` rows:

* A quarter is written "2027Q2" (case-insensitive, "2027-Q2" works too) and begins on its
  first calendar day (2027-04-01).
* History: the owners each of the 3 previous quarters handed over, i.e. the row in force
  on each quarter's last day (the newest with `effective_from` <= that day, as
  `catalog.sync.current_owners` reads it).  For last quarter these are exactly the owners
  the new quarter takes over from, which is what "the same primary two quarters running"
  is measured against.
* `apply` writes one row per active pipeline: `effective_from` = the quarter's first day,
  origin "rotation", the quarter's label.  Earlier rows stay, so the history is kept, and
  every reader (`oncall who`, `/oncall who`, run books) switches on that day by itself.

Rules of `apply`, all checked before anything is written (and the caller's transaction
makes it all or nothing):

* A quarter that has begun is refused: ownership in force is history.  "Begun" means its
  first day is today or earlier in the team's timezone *or* in UTC (the run books pick the
  row by the UTC date), so nobody has been shown the owners being replaced.
* The same proposal applied twice: the second time writes nothing ("already applied").
* Applied again after its inputs changed (a member left, a pipeline came, an earlier
  quarter was re-applied): that quarter's rotation rows are replaced.  Later quarters
  already applied were planned from the old owners: they are named, to be re-applied.
* Refused if a catalog row starts on or after the quarter's first day (the team file's
  rotation start is later): it would share the day, or overrule the rotation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, delete, select

from catalog import rotation
from catalog.sync import current_owners
from core.errors import OncallError
from core.timefmt import local_date
from schedules.generate import active_members
from storage.enums import OwnershipOrigin
from storage.models import Ownership, Pipeline, Team

ORIGIN = OwnershipOrigin.ROTATION
_QUARTER = re.compile(r"([0-9]{4})\s*-?\s*Q([1-4])", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: `number` 1 to 4 of `year`."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """ "2027Q2" (also "2027q2", "2027-Q2"); anything else is a clear `OncallError`."""
        found = _QUARTER.fullmatch(text.strip())
        if found is None or int(found[1]) < 1:
            raise OncallError(f"'{text}' is not a quarter: use YEAR then Q1-Q4, e.g. 2027Q2")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return self.shifted(1).first_day - timedelta(days=1)

    def shifted(self, quarters: int) -> Quarter:
        """The quarter `quarters` later (earlier when negative)."""
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return self.label


def next_quarter(team: Team, now: datetime) -> Quarter:
    """The default for `oncall owners`: the quarter after today's, in team time."""
    return Quarter.of(local_date(now, team.timezone)).shifted(1)


@dataclass(frozen=True)
class PlannedOwners:
    """One pipeline's proposed owners, next to the ones it hands over from."""

    pipeline_id: str
    name: str
    area: str
    audience: str
    primary: str
    secondary: str
    was_primary: str | None
    was_secondary: str | None


@dataclass(frozen=True)
class OwnersPlan:
    """The proposal for one team and quarter, as `oncall owners propose` shows it."""

    team_id: str
    quarter: Quarter
    rows: tuple[PlannedOwners, ...]
    members: tuple[str, ...]
    proposal: rotation.Proposal

    @property
    def owners(self) -> Mapping[str, rotation.Owners]:
        return self.proposal.owners

    @property
    def loads(self) -> Mapping[str, int]:
        return self.proposal.loads

    @property
    def year(self) -> tuple[Quarter, Quarter]:
        """The first and last quarter of the year the area rule looks at."""
        return self.quarter.shifted(-rotation.HISTORY_QUARTERS), self.quarter


@dataclass(frozen=True)
class AppliedOwners:
    """What `apply` did: "written", "replaced" or "already applied"; `stale` names later
    quarters already applied, which were planned from the owners just replaced."""

    plan: OwnersPlan
    status: Literal["written", "replaced", "already applied"]
    stale: tuple[Quarter, ...] = ()


def propose(session: Session, team: Team, quarter: Quarter) -> OwnersPlan:
    """Next quarter's owners for every active pipeline of `team` (nothing is written)."""
    pipelines = _active_pipelines(session, team)
    members = active_members(session, team.id)
    if len(members) < 2:
        raise OncallError(f"team {team.id} needs at least two active members to rotate ownership")
    if not pipelines:
        raise OncallError(f"team {team.id} has no pipelines to rotate")
    history = [
        _owners_on(session, pipelines, quarter.shifted(-back).last_day)
        for back in range(rotation.HISTORY_QUARTERS, 0, -1)
    ]
    specs = [rotation.PipelineSpec(p.id, p.area, p.audience) for p in pipelines]
    proposal = rotation.propose(specs, members, history)
    last = history[-1]
    rows = tuple(
        PlannedOwners(
            pipeline_id=p.id,
            name=p.name,
            area=p.area,
            audience=p.audience,
            primary=proposal.owners[p.id][0],
            secondary=proposal.owners[p.id][1],
            was_primary=last[p.id][0] if p.id in last else None,
            was_secondary=last[p.id][1] if p.id in last else None,
        )
        for p in pipelines
    )
    return OwnersPlan(team.id, quarter, rows, tuple(members), proposal)


def apply(session: Session, team: Team, quarter: Quarter, now: datetime) -> AppliedOwners:
    """Write `quarter`'s proposal in the caller's transaction (see the module docstring)."""
    today = local_date(now, team.timezone)
    if quarter.first_day <= today:
        raise OncallError(
            f"{quarter} began on {quarter.first_day:%Y-%m-%d}: ownership already in force is history and is "
            f"never rewritten; the next quarter you can apply is {Quarter.of(today).shifted(1)}"
        )
    plan = propose(session, team, quarter)
    team_pipelines = list(session.exec(select(Pipeline.id).where(Pipeline.team_id == team.id)))
    in_the_way = session.exec(
        select(Ownership)
        .where(
            col(Ownership.pipeline_id).in_(list(plan.owners)),
            col(Ownership.effective_from) >= quarter.first_day,
            Ownership.origin != ORIGIN,
        )
        .order_by(col(Ownership.effective_from), col(Ownership.pipeline_id))
    ).first()
    if in_the_way is not None:
        raise OncallError(
            f"pipeline {in_the_way.pipeline_id}: its {in_the_way.origin} owners start on "
            f"{in_the_way.effective_from:%Y-%m-%d}, not before {quarter} begins; rotate a quarter after that day"
        )
    existing = list(
        session.exec(
            select(Ownership).where(
                col(Ownership.pipeline_id).in_(team_pipelines),
                Ownership.effective_from == quarter.first_day,
                Ownership.origin == ORIGIN,
            )
        )
    )
    have = {row.pipeline_id: (row.primary_id, row.secondary_id) for row in existing}
    if have == dict(plan.owners) and all(row.quarter == quarter.label for row in existing):
        return AppliedOwners(plan, "already applied")
    if existing:
        session.execute(delete(Ownership).where(col(Ownership.id).in_([row.id for row in existing])))
        session.flush()  # the unique (pipeline, day) slots are free before the new rows go in
    for row in plan.rows:
        session.add(
            Ownership(
                pipeline_id=row.pipeline_id,
                effective_from=quarter.first_day,
                primary_id=row.primary,
                secondary_id=row.secondary,
                origin=ORIGIN,
                quarter=quarter.label,
                created_at=now,
            )
        )
    session.flush()
    later = session.exec(
        select(Ownership).where(
            col(Ownership.pipeline_id).in_(team_pipelines),
            col(Ownership.effective_from) > quarter.first_day,
            Ownership.origin == ORIGIN,
        )
    )
    stale = tuple(sorted({Quarter.of(row.effective_from) for row in later}))
    return AppliedOwners(plan, "replaced" if existing else "written", stale)


def _active_pipelines(session: Session, team: Team) -> list[Pipeline]:
    query = select(Pipeline).where(Pipeline.team_id == team.id, col(Pipeline.active)).order_by(col(Pipeline.position))
    return list(session.exec(query))


def _owners_on(session: Session, pipelines: list[Pipeline], day: date) -> dict[str, rotation.Owners]:
    """pipeline id -> (primary, secondary) in force on `day` (pipelines with no owner yet left out)."""
    owners = {}
    for pipeline in pipelines:
        row = current_owners(session, pipeline.id, day)
        if row is not None:
            owners[pipeline.id] = (row.primary_id, row.secondary_id)
    return owners
