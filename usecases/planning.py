"""The other writers of a schedule: generate, the holiday plan, the quarterly owners and
the team file sync. Each takes its team's writer lock before reading what it changes and
records what it did in the audit trail, in the same transaction."""

from dataclasses import dataclass
from datetime import date

from catalog import owners as ownership
from catalog.queries import resolve_team
from catalog.sync import SlackIdLookup, SyncReport, sync_catalog
from core.timefmt import local_date
from schedules import planner
from schedules.fairness import FairnessReport
from schedules.holiday_plan import HolidayPlan
from storage.db import team_writer
from storage.enums import AuditAction
from storage.models import Team
from usecases.audit import Actor, record
from usecases.runtime import Runtime, read_team_file, record_sync


@dataclass(frozen=True)
class Generated:
    team: Team
    horizon: planner.Horizon
    changes: list[planner.Change]
    report: FairnessReport


def _team_id(runtime: Runtime, team: str | None) -> str:
    """Which team's lock to take (the team itself is re-read inside the lock)."""
    with runtime.session() as session:
        return resolve_team(session, team).id


def generate(runtime: Runtime, actor: Actor, team: str | None, start: date | None, weeks: int | None) -> Generated:
    """Re-plan a period (default: a year ahead, or all stored), keeping what must stay."""
    team_id, now = _team_id(runtime, team), runtime.clock()
    with team_writer(runtime.engine, team_id) as session:
        the_team = resolve_team(session, team_id)
        if start is None and weeks is None:
            horizon = planner.year_ahead(session, the_team, now)
        else:
            horizon = planner.horizon_from(the_team, start or local_date(now, the_team.timezone), weeks or 52)
        changes = planner.generate(session, horizon, now)
        summary = f"schedule generated for {horizon.count} weeks ({len(changes)} shifts changed)"
        details = {"first_shift": horizon.first, "weeks": horizon.count}
        record(session, actor, team_id, AuditAction.GENERATE, summary, now, details=details, changes=changes)
        return Generated(the_team, horizon, changes, planner.fairness(session, horizon, now))


def plan_holidays(
    runtime: Runtime, actor: Actor, team: str | None, year: int, replan: bool
) -> tuple[Team, HolidayPlan, list[planner.Change]]:
    team_id, now = _team_id(runtime, team), runtime.clock()
    with team_writer(runtime.engine, team_id) as session:
        the_team = resolve_team(session, team_id)
        plan, changes = planner.plan_holidays(session, the_team, year, now, replan)
        if plan.created:
            summary = f"major holidays {year} {'re-planned' if replan else 'planned'}"
            details = {"holidays": {holiday.name: holiday.member for holiday in plan.holidays}}
            record(
                session, actor, team_id, AuditAction.HOLIDAYS_PLANNED, summary, now, details=details, changes=changes
            )
        return the_team, plan, changes


def apply_owners(
    runtime: Runtime, actor: Actor, team: str | None, quarter: ownership.Quarter | None
) -> tuple[Team, ownership.AppliedOwners]:
    team_id, now = _team_id(runtime, team), runtime.clock()
    with team_writer(runtime.engine, team_id) as session:
        the_team = resolve_team(session, team_id)
        chosen = quarter or ownership.next_quarter(the_team, now)
        result = ownership.apply(session, the_team, chosen, now)
        if result.status != "already applied":
            owners = {pipeline: list(pair) for pipeline, pair in result.plan.owners.items()}
            summary = f"owners for {chosen.label} {result.status}"
            record(session, actor, team_id, AuditAction.OWNERS_APPLIED, summary, now, details={"owners": owners})
        return the_team, result


def sync(runtime: Runtime, actor: Actor, lookup: SlackIdLookup | None = None) -> SyncReport:
    """Validate the whole team file first (nothing is locked or written if it is bad), then
    load it under the writer lock of every team it names. `lookup` finds the Slack ids the
    file leaves out, by e-mail (only those not found before: a handful of calls, once)."""
    catalog = read_team_file(runtime)
    source = str(runtime.settings.oncall_team_file)
    with team_writer(runtime.engine, *(team.id for team in catalog.teams)) as session:
        report = sync_catalog(session, catalog, runtime.clock(), lookup=lookup, source=source)
        record_sync(session, actor, report, runtime)
        return report
