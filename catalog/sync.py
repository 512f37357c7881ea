"""Load a validated catalog into the database, idempotently.

Runs in the caller's transaction: any refusal raises before commit, so a refused sync
leaves the database exactly as it was.

A member written without a Slack id (left out, empty, "TODO", "U0000000") is found from
their `email` by the `lookup` the caller injects (the terminal builds one on Slack's
`users.lookupByEmail` when SLACK_BOT_TOKEN is set; the catalog knows nothing of Slack).
An id found once is kept while the e-mail stays the same, so later syncs ask Slack
nothing and stay "already up to date". A member nobody could find is stored with
`PLACEHOLDER_SLACK_ID` (the column is required) and named in a warning with the fix:
one unknown id never refuses the whole file.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select

from catalog.loader import CatalogError
from catalog.schema import PLACEHOLDER_SLACK_ID, CatalogFile, MemberEntry, PipelineEntry, TeamEntry, is_placeholder
from core.timefmt import local_date
from schedules import planner
from schedules.generate import active_members
from storage.db import existing
from storage.enums import OwnershipOrigin, TimeOffOrigin
from storage.models import Member, Ownership, Pipeline, Team, TimeOff

Row = TypeVar("Row", bound=SQLModel)
# e-mail -> Slack user id, or None when no user has it; raises LookupFailed when it cannot say.
SlackIdLookup = Callable[[str], str | None]


class LookupFailed(Exception):
    """The lookup could not answer (a missing scope, a refused token, Slack unreachable):
    the message says why and what to do, and goes into the member's warning."""


@dataclass
class SyncReport:
    """What a sync changed, as short human-readable lines."""

    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # accepted, but someone must act
    shift_changes: dict[str, list[planner.Change]] = field(default_factory=dict)  # by team, for the audit

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class _Source:
    """Where the entries come from, to name them in warnings, and how to find Slack ids."""

    name: str
    lookup: SlackIdLookup | None


def sync_catalog(
    session: Session,
    catalog: CatalogFile,
    now: datetime,
    *,
    lookup: SlackIdLookup | None = None,
    source: str = "team.yaml",
) -> SyncReport:
    """Make the database match `catalog`; returns what changed (nothing on a second run).
    `lookup` finds the Slack ids the file leaves out; `source` names the file in warnings."""
    report = SyncReport()
    for index, team_entry in enumerate(catalog.teams):
        _sync_team(session, team_entry, now, report, _Source(f"{source}: teams[{index}] {team_entry.id}", lookup))
    session.flush()
    return report


def _sync_team(session: Session, entry: TeamEntry, now: datetime, report: SyncReport, source: _Source) -> None:
    team = _upsert(session, Team, entry.id, _team_values(entry), report)
    members_before = active_members(session, team.id)
    time_off_changed = False
    for position, member in enumerate(entry.members):
        where = _Source(f"{source.name}: members[{position}] {member.id}", source.lookup)
        values = _member_values(team.id, position, member) | {"slack_id": _slack_id(session, member, where, report)}
        _upsert(session, Member, member.id, values, report)
        time_off_changed |= _sync_time_off(session, member, report, now)
    removed = [member_id for member_id in members_before if member_id not in {m.id for m in entry.members}]
    for position, pipeline in enumerate(entry.pipelines):
        _upsert(session, Pipeline, pipeline.id, _pipeline_values(team.id, position, pipeline), report)
        _sync_catalog_ownership(session, team, pipeline, report, now)
    _retire_pipelines(session, team.id, {pipeline.id for pipeline in entry.pipelines}, report)
    _retire_members(session, removed, local_date(now, team.timezone), report)
    session.flush()
    _reschedule(session, team, now, time_off_changed or members_before != active_members(session, team.id), report)


def _reschedule(session: Session, team: Team, now: datetime, inputs_changed: bool, report: SyncReport) -> None:
    """Keep the schedule true to the file: when members or time off changed, move planned
    major holidays off whoever can no longer take them and re-plan the stored future
    (frozen and swapped shifts stay); then plan up to the horizon."""
    changes: list[planner.Change] = []
    if inputs_changed:
        moved, changes = planner.replan(session, team, now)
        report.changes.extend(f"team {team.id}: holiday rotation {line}" for line in moved)
        if changes:
            report.changes.append(f"team {team.id}: schedule regenerated, {len(changes)} shifts changed")
    extended, stopped = planner.extend(session, team, now)
    report.shift_changes[team.id] = changes + extended
    if stopped:
        report.warnings.append(f"team {team.id}: the schedule stops just before an unstaffable week: {stopped}")


def _upsert(session: Session, model: type[Row], key: str, values: dict[str, Any], report: SyncReport) -> Row:
    """Insert or update one row by primary key, recording only real changes."""
    row = session.get(model, key)
    kind = model.__name__.lower()
    if row is None:
        row = model(id=key, **values)
        session.add(row)
        report.changes.append(f"{kind} {key}: added")
        return row
    changed = sorted(name for name, value in values.items() if getattr(row, name) != value)
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        report.changes.append(f"{kind} {key}: updated {', '.join(changed)}")
    return row


def _team_values(entry: TeamEntry) -> dict[str, Any]:
    rotation = entry.rotation
    return {
        "name": entry.name,
        "timezone": entry.timezone,
        "channel": entry.channel,
        "shift_days": rotation.shift_days,
        "handoff_weekday": rotation.weekday_index,
        "handoff_time": rotation.handoff_time,
        "rotation_start": rotation.start,
        "freeze_days": rotation.freeze_days,
        "major_holidays": list(rotation.major_holidays),
        "oncall_group": entry.oncall_group,
    }


def _member_values(team_id: str, position: int, entry: MemberEntry) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "name": entry.name,
        "email": entry.email,
        "timezone": entry.timezone,
        "country": entry.country,
        "subdivision": entry.subdivision,
        "position": position,
        "active": True,
    }


def _slack_id(session: Session, entry: MemberEntry, where: _Source, report: SyncReport) -> str:
    """The id the file gives; else the one found earlier for the same e-mail; else what
    `lookup` finds (a change line says so); else the placeholder, with a warning."""
    if entry.slack_id is not None:
        return entry.slack_id
    stored = session.get(Member, entry.id)
    if stored is not None and not is_placeholder(stored.slack_id) and stored.email.lower() == entry.email.lower():
        return stored.slack_id
    named = f"{where.name}: slack_id"
    manual = "or put the member's id in `slack_id` (Slack profile → ⋮ → Copy member ID)"
    if where.lookup is None:
        report.warnings.append(
            f"{named}: missing or a placeholder, and no Slack token to look up {entry.email}: "
            f"set SLACK_BOT_TOKEN and run `oncall sync` again, {manual}"
        )
        return PLACEHOLDER_SLACK_ID
    try:
        found = where.lookup(entry.email)
    except LookupFailed as error:
        report.warnings.append(f"{named}: cannot look up {entry.email}: {error}; {manual}")
        return PLACEHOLDER_SLACK_ID
    if found is None:
        report.warnings.append(
            f"{named}: no active Slack user has the e-mail {entry.email}: "
            f"put the address they sign in to Slack with in `email`, {manual}, then `oncall sync`"
        )
        return PLACEHOLDER_SLACK_ID
    report.changes.append(f"member {entry.id}: slack_id {found} found from {entry.email}")
    return found


def _pipeline_values(team_id: str, position: int, entry: PipelineEntry) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "name": entry.name,
        "area": entry.area,
        "audience": entry.audience,
        "run_schedule": entry.schedule,
        "sources": list(entry.sources),
        "alert_channel": entry.alert_channel,
        "position": position,
        "active": True,
    }


def _sync_time_off(session: Session, entry: MemberEntry, report: SyncReport, now: datetime) -> bool:
    """Catalog time off is replaced wholesale; ad hoc time off (`oncall away`) is kept.
    Returns whether anything changed."""
    wanted = {(item.first_day, item.last_day, item.reason) for item in entry.time_off}
    stored = session.exec(
        select(TimeOff).where(TimeOff.member_id == entry.id, TimeOff.origin == TimeOffOrigin.CATALOG)
    ).all()
    have = {(row.first_day, row.last_day, row.reason): row for row in stored}
    for key, row in have.items():
        if key not in wanted:
            session.delete(row)
            report.changes.append(f"member {entry.id}: time off {key[0]}..{key[1]} removed")
    for first_day, last_day, reason in sorted(wanted - have.keys()):
        session.add(
            TimeOff(
                member_id=entry.id,
                first_day=first_day,
                last_day=last_day,
                reason=reason,
                origin=TimeOffOrigin.CATALOG,
                created_at=now,
            )
        )
        report.changes.append(f"member {entry.id}: time off {first_day}..{last_day} added")
    return bool(have.keys() ^ wanted)


def _sync_catalog_ownership(
    session: Session, team: Team, entry: PipelineEntry, report: SyncReport, now: datetime
) -> None:
    """The catalog's owners hold from the rotation start; quarterly rotations add later rows."""
    row = session.exec(
        select(Ownership).where(Ownership.pipeline_id == entry.id, Ownership.origin == OwnershipOrigin.CATALOG)
    ).first()
    if row is None:
        session.add(
            Ownership(
                pipeline_id=entry.id,
                effective_from=team.rotation_start,
                primary_id=entry.primary,
                secondary_id=entry.secondary,
                created_at=now,
            )
        )
        return
    if (row.primary_id, row.secondary_id, row.effective_from) != (
        entry.primary,
        entry.secondary,
        team.rotation_start,
    ):
        row.primary_id, row.secondary_id, row.effective_from = (
            entry.primary,
            entry.secondary,
            team.rotation_start,
        )
        report.changes.append(f"pipeline {entry.id}: owners now {entry.primary} / {entry.secondary}")


def _retire_pipelines(session: Session, team_id: str, keep: set[str], report: SyncReport) -> None:
    for pipeline in session.exec(select(Pipeline).where(Pipeline.team_id == team_id, col(Pipeline.active))):
        if pipeline.id not in keep:
            pipeline.active = False
            report.changes.append(f"pipeline {pipeline.id}: removed")


def _retire_members(session: Session, removed: list[str], today: date, report: SyncReport) -> None:
    """Deactivate members who left the file, unless they still own a pipeline."""
    session.flush()
    for member_id in removed:
        owned = ownership_from(session, member_id, today)
        if owned:
            raise CatalogError(
                f"cannot remove member '{member_id}': still owns {', '.join(owned)}; hand these pipelines over first"
            )
        existing(session, Member, member_id).active = False
        report.changes.append(f"member {member_id}: removed from the rotation")


def ownership_from(session: Session, member_id: str, today: date) -> list[str]:
    """What `member_id` owns today or in a quarter already applied, e.g.
    "aggregate-growth (secondary)" or "daily-growth (primary from 2027-04-01)"."""
    owned = []
    for pipeline in session.exec(select(Pipeline).where(col(Pipeline.active)).order_by(col(Pipeline.position))):
        current = current_owners(session, pipeline.id, today)
        later = session.exec(
            select(Ownership)
            .where(Ownership.pipeline_id == pipeline.id, col(Ownership.effective_from) > today)
            .order_by(col(Ownership.effective_from))
        )
        for row in ([current] if current else []) + list(later):
            since = "" if row is current else f" from {row.effective_from:%Y-%m-%d}"
            for role, owner in (("primary", row.primary_id), ("secondary", row.secondary_id)):
                if owner == member_id:
                    owned.append(f"{pipeline.id} ({role}{since})")
    return owned


def current_owners(session: Session, pipeline_id: str, today: date) -> Ownership | None:
    """The ownership row in force on `today`: the newest one that has started."""
    query = (
        select(Ownership)
        .where(Ownership.pipeline_id == pipeline_id, col(Ownership.effective_from) <= today)
        .order_by(col(Ownership.effective_from).desc())
        .limit(1)
    )
    return session.exec(query).first()
