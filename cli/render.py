"""Plain-text and JSON renderings for the terminal."""

from collections.abc import Sequence
from typing import Any

from catalog.queries import Person, PipelineInfo
from core.timefmt import format_local, format_local_with_year
from schedules.fairness import FairnessReport
from schedules.planner import Change
from schedules.queries import OnCall


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


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A left-aligned text table sized to its content."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def schedule_text(shifts: Sequence[OnCall]) -> str:
    if not shifts:
        return "No shifts scheduled in that period."
    tz = shifts[0].team_timezone
    rows = [
        [
            format_local_with_year(shift.start, tz),
            format_local(shift.end, tz),
            shift.primary.name,
            shift.secondary.name,
            "" if shift.origin == "rotation" else shift.origin,
        ]
        for shift in shifts
    ]
    return f"{shifts[0].team_name} (times in {tz})\n" + table(["from", "until", "primary", "secondary", ""], rows)


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
    return f"{len(changes)} shifts changed (primary / secondary):\n" + table(["shift", "before", "after"], rows)


def fairness_text(report: FairnessReport) -> str:
    members = table(
        ["member", "primary", "secondary", "own-holiday days", "weekend days", "back-to-back", "time-off conflicts"],
        [
            [s.member, str(s.primary), str(s.secondary), str(s.holiday_days), str(s.weekend_days),
             str(s.back_to_back), str(s.conflicts)]
            for s in report.members
        ],
    )  # fmt: skip
    metrics = table(
        ["metric", "value", "best possible", ""],
        [
            [m.metric, str(m.spread), str(m.limit), "optimal" if m.spread <= m.limit else "ABOVE LIMIT"]
            for m in report.metrics
        ],
    )
    verdict = "Every metric is at its limit." if report.at_limit() else "Some metrics are above their limit."
    note = "(value: max - min over members; back_to_back and conflicts: totals)"
    return f"{members}\n\n{metrics}\n{note}\n{verdict}"


def _verdict(value: int, limit: int) -> str:
    return "optimal" if value <= limit else "ABOVE LIMIT"


def fairness_json(report: FairnessReport) -> dict[str, Any]:
    return {
        "members": [vars(s) for s in report.members],
        "metrics": [vars(m) for m in report.metrics],
        "at_limit": report.at_limit(),
    }
