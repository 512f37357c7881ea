"""The fairness report as plain text: one table for the terminal and Slack alike."""

from core.texttable import table
from schedules.fairness import EXACT_LIMITS, FairnessReport

_MEMBER_COLUMNS = (
    "member",
    "primary",
    "secondary",
    "own-holiday days",
    "weekend days",
    "major holidays",
    "back-to-back",
    "time-off conflicts",
)


def fairness_table(report: FairnessReport) -> str:
    """Per-member totals, then each metric next to the best these inputs allow."""
    members = table(
        _MEMBER_COLUMNS,
        [
            [s.member, str(s.primary), str(s.secondary), str(s.holiday_days), str(s.weekend_days),
             str(s.major_holidays), str(s.back_to_back), str(s.conflicts)]
            for s in report.members
        ],
    )  # fmt: skip
    metrics = table(
        ["metric", "value", "best possible", ""],
        [[m.metric, str(m.spread), _limit(m.metric, m.limit), _verdict(m.spread, m.limit)] for m in report.metrics],
    )
    notes = [
        "value: max - min over members who can still be scheduled (history included);",
        "  holiday_days, back_to_back and conflicts: totals over these weeks.",
        "≥ N: a proven lower bound, given the metrics above it at theirs; the true best may be higher.",
        "Every metric is at its limit: this schedule is optimal."
        if report.at_limit()
        else "Some metrics are above their bound.",
    ]
    return "\n".join([members, "", metrics, *notes])


def _limit(metric: str, limit: int) -> str:
    return str(limit) if metric in EXACT_LIMITS else f"≥ {limit}"


def _verdict(value: int, limit: int) -> str:
    if value < limit:  # possible only when a metric ranked above is off its own limit
        return "below (a metric above is not at its limit)"
    return "optimal" if value == limit else f"{value - limit} above"
