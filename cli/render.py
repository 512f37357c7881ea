"""Plain-text and JSON renderings for the terminal."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog.owners import AppliedOwners, OwnersPlan
from catalog.queries import PipelineInfo
from catalog.rotation import AUDIENCE_WEIGHT, PRIMARY_WEIGHT, SECONDARY_WEIGHT
from core.text import counted
from core.texttable import table
from core.timefmt import format_local, format_local_with_year
from schedules.absences import TimeOffResult
from schedules.fairness import EXACT_LIMITS, FairnessReport
from schedules.holiday_plan import HolidayPlan
from schedules.people import Person
from schedules.planner import FROZEN, Change, Horizon
from schedules.queries import OnCall
from storage.enums import ShiftOrigin
from storage.models import AuditEntry, TimeOff


def person_json(person: Person) -> dict[str, str]:
    return {"id": person.id, "name": person.name, "slack_id": person.slack_id}


def shift_json(shift: OnCall) -> dict[str, Any]:
    return {
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
        "primary": person_json(shift.primary),
        "secondary": person_json(shift.secondary),
    }


def now_json(shift: OnCall) -> dict[str, Any]:
    return {"team": shift.team_id, **shift_json(shift)}


def now_text(shift: OnCall, heading: str = "On call now") -> str:
    tz = shift.team_timezone
    return "\n".join(
        [
            f"{heading} for {shift.team_name}:",
            f"  primary    {shift.primary.name}",
            f"  secondary  {shift.secondary.name}",
            f"  {format_local_with_year(shift.start, tz)}  ->  {format_local_with_year(shift.end, tz)}",
        ]
    )


def schedule_text(shifts: Sequence[OnCall], notes: Sequence[Sequence[str]]) -> str:
    """The shifts, each followed by the holidays and time off that fall in it."""
    if not shifts:
        return "No shifts scheduled in that period."
    tz = shifts[0].team_timezone
    rows = [
        [
            format_local_with_year(shift.start, tz),
            format_local(shift.end, tz),
            shift.primary.name,
            shift.secondary.name,
            "" if shift.origin == ShiftOrigin.ROTATION else shift.origin,
        ]
        for shift in shifts
    ]
    header, rule, *lines = table(["from", "until", "primary", "secondary", ""], rows).split("\n")
    out = [f"{shifts[0].team_name} (times in {tz})", header, rule]
    for line, shift_notes in zip(lines, notes, strict=True):
        out.append(line)
        out.extend(f"    · {note}" for note in shift_notes)
    return "\n".join(out)


def owners_text(info: PipelineInfo, on_call: OnCall | None) -> str:
    def name(person: Person | None) -> str:
        return person.name if person else "(nobody)"

    lines = [
        f"{info.name} ({info.id})",
        f"  area        {info.area} · audience {info.audience}",
        f"  owners      primary {name(info.primary)}, secondary {name(info.secondary)}",
        f"  runs        {info.run_schedule}",
        f"  sources     {', '.join(info.sources)}",
        f"  alerts      {info.alert_channel}",
    ]
    if on_call is not None:
        lines.append(f"  on call     primary {on_call.primary.name}, secondary {on_call.secondary.name}")
    return "\n".join(lines)


def changes_text(changes: Sequence[Change], timezone: str, names: dict[str, str]) -> str:
    if not changes:
        return "No shift changed."

    def pair(value: tuple[str, str] | None) -> str:
        return "(none)" if value is None else f"{names.get(value[0], value[0])} / {names.get(value[1], value[1])}"

    rows = [[format_local_with_year(c.start, timezone), pair(c.before), pair(c.after)] for c in changes]
    return f"{counted(len(changes), 'shift')} changed (primary / secondary):\n" + table(
        ["shift", "before", "after"], rows
    )


def schedule_end_note(shifts: Sequence[OnCall], until: datetime, timezone: str) -> str | None:
    """Why fewer weeks were shown than asked for, if they were: the schedule ends there."""
    if shifts and shifts[-1].end >= until:
        return None
    ends = f"ends {format_local_with_year(shifts[-1].end, timezone)}" if shifts else "stops before this"
    return f"The schedule {ends} for now: `oncall generate --from DATE --weeks N` plans further."


def fairness_heading(horizon: Horizon) -> str:
    """Which weeks a fairness table judges, in team time."""
    first, end = horizon.span
    tz = horizon.team.timezone
    span = f"{format_local_with_year(first, tz)} to {format_local_with_year(end, tz)}"
    return f"{horizon.team.name}: {counted(horizon.count, 'week')}, {span}"


def fairness_json(report: FairnessReport, horizon: Horizon) -> dict[str, Any]:
    """`spread` holds the total for holiday_days, back_to_back and conflicts; `exact` says
    whether `limit` is the best possible or only a lower bound."""
    first, end = horizon.span
    return {
        "team": horizon.team.id,
        "from": first.isoformat(),
        "until": end.isoformat(),
        "weeks": horizon.count,
        "members": [vars(s) for s in report.members],
        "metrics": [vars(m) | {"exact": m.metric in EXACT_LIMITS} for m in report.metrics],
        "at_limit": report.at_limit(),
    }


def time_off_text(result: TimeOffResult, names: dict[str, str]) -> str:
    """What recording time off changed, and what the team still has to sort out by hand."""
    lines = [f"Major holiday moved: {line}" for line in result.holidays_moved]
    lines.append(changes_text(result.changes, result.team.timezone, names))
    tz = result.team.timezone
    lines.extend(
        f"Still on call as {role} from {format_local_with_year(start, tz)}: {FROZEN}, ask a teammate to swap."
        for start, role in result.still_on_call
    )
    return "\n".join(lines)


def bookings_text(bookings: Sequence[TimeOff], names: dict[str, str]) -> str:
    """`oncall away --list`: one line a booking, with the id `--cancel` takes."""
    if not bookings:
        return "No upcoming time off."
    rows = [
        [f"#{off.id}", names.get(off.member_id, off.member_id), str(off.first_day), str(off.last_day), off.reason]
        for off in bookings
    ]
    return table(["id", "member", "from", "to (included)", "reason"], rows)


def audit_text(rows: Sequence[AuditEntry], timezone: str) -> str:
    """`oncall audit`: oldest first; shift moves indented under the change that caused them."""
    if not rows:
        return "Nothing recorded."
    lines = []
    for row in rows:
        indent = "    " if row.cause_id is not None else ""
        lines.append(f"{indent}{format_local_with_year(row.at, timezone)}  {row.front_end} {row.actor}: {row.summary}")
    return "\n".join(lines)


def audit_json(row: AuditEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "front_end": str(row.front_end),
        "actor": row.actor,
        "action": str(row.action),
        "member": row.member_id,
        "summary": row.summary,
        "details": row.details,
        "cause": row.cause_id,
    }


def holiday_plan_text(plan: HolidayPlan, names: dict[str, str]) -> str:
    status = "Planned" if plan.created else "Already planned (use --replan to plan again)"
    rows = [[h.day.strftime("%a %d %b %Y"), h.name, names.get(h.member, h.member)] for h in plan.holidays]
    heading = f"{status}: major holidays {plan.year} ({plan.country} calendar)"
    lines = [heading, table(["day", "holiday", "primary"], rows)]
    lines.extend(f"Not a holiday in {plan.country} in {plan.year}: {name}" for name in plan.missing)
    return "\n".join(lines)


# --- quarterly ownership rotation (`oncall owners`) --------------------------------------


def owners_plan_text(plan: OwnersPlan, names: dict[str, str]) -> str:
    """`oncall owners propose`: each pipeline's owners (and last quarter's), the members'
    loads, and how the rules came out."""

    def name(member: str | None) -> str:
        return "(nobody)" if member is None else names.get(member, member)

    def owner(member: str, was: str | None) -> str:
        return f"{name(member)} (was {name(was)})"

    pipelines = table(
        ["pipeline", "area", "audience", "primary", "secondary"],
        [
            [row.pipeline_id, row.area, row.audience, owner(row.primary, row.was_primary),
             owner(row.secondary, row.was_secondary)]
            for row in plan.rows
        ],
    )  # fmt: skip
    roles: dict[str, tuple[list[str], list[str]]] = {member: ([], []) for member in plan.members}
    for row in plan.rows:
        roles[row.primary][0].append(row.pipeline_id)
        roles[row.secondary][1].append(row.pipeline_id)
    loads = table(
        ["member", "load", "primary on", "secondary on"],
        [
            [
                name(member),
                str(plan.loads[member]),
                ", ".join(roles[member][0]) or "-",
                ", ".join(roles[member][1]) or "-",
            ]
            for member in plan.members
        ],
    )
    weights = ", ".join(f"{audience} {weight}" for audience, weight in AUDIENCE_WEIGHT.items())
    first, last = plan.year
    return "\n".join(
        [
            f"Proposed owners for {plan.quarter} (from {plan.quarter.first_day:%Y-%m-%d}), team {plan.team_id}:",
            pipelines,
            "",
            f"Load this quarter (pipeline weight {weights}; primary {PRIMARY_WEIGHT}x, secondary {SECONDARY_WEIGHT}x):",
            loads,
            "",
            *_owners_rules(plan, names, f"{first}-{last}"),
        ]
    )


def _owners_rules(plan: OwnersPlan, names: dict[str, str], year: str) -> list[str]:
    proposal = plan.proposal
    unmet = []
    lines = ["Rules:"]
    if proposal.repeated_primaries:
        unmet.append(f"same primary as last quarter on {', '.join(proposal.repeated_primaries)}")
    else:
        lines.append("  met      primary differs from last quarter's on every pipeline")
    if proposal.area_gaps:
        gaps = ", ".join(f"{names.get(member, member)} in {area}" for member, area in proposal.area_gaps)
        unmet.append(f"over {year} some members own nothing in an area: {gaps}")
    else:
        lines.append(f"  met      everyone owns something in every business area over {year}")
    best = "the least the rules above allow" if proposal.exact else "the best found within the search budget"
    lines.append(f"  balance  loads differ by {proposal.score.load_spread} ({best})")
    if proposal.repeated_secondaries:
        unmet.append(f"same secondary as last quarter on {', '.join(proposal.repeated_secondaries)}")
    else:
        lines.append("  met      secondary differs from last quarter's on every pipeline")
    lines.extend(f"  NOT MET  {rule}" for rule in unmet)
    lines.append("Could not be met: " + "; ".join(unmet) + "." if unmet else "Every rule is met.")
    return lines


def owners_applied_text(result: AppliedOwners, names: dict[str, str]) -> str:
    """`oncall owners apply`: what was written (or that nothing needed to be)."""
    plan = result.plan
    if result.status == "already applied":
        return f"{plan.quarter} is already applied for team {plan.team_id} with these owners: nothing changed."
    verb = "Replaced the earlier plan for" if result.status == "replaced" else "Wrote"
    rows = [
        [row.pipeline_id, names.get(row.primary, row.primary), names.get(row.secondary, row.secondary)]
        for row in plan.rows
    ]
    lines = [
        f"{verb} {plan.quarter} owners for team {plan.team_id}, in force from {plan.quarter.first_day:%Y-%m-%d} "
        f"({len(plan.rows)} pipelines; earlier owners kept as history):",
        table(["pipeline", "primary", "secondary"], rows),
    ]
    if result.stale:
        later = ", ".join(str(quarter) for quarter in result.stale)
        lines.append(f"Already applied before these owners were: {later}; re-apply to plan from them.")
    return "\n".join(lines)
