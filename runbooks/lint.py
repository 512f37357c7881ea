"""Checks behind ``oncall runbook --check``.

On-call engineers open a run book in the middle of an incident; a missing section or a
year-old review is discovered too late then.  These checks run in CI instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from runbooks.document import (
    RUNBOOK_DIR,
    Runbook,
    RunbookError,
    Section,
    available_runbooks,
    display_path,
    load_runbook,
)

FAILURE_MODES: tuple[str, ...] = (
    "Data source unavailability",
    "Data quality issues",
    "Processing failures",
    "Infrastructure problems",
    "Schema changes",
    "Security or access issues",
)
"""The failure modes every investor-facing run book must cover."""

REQUIRED_INVESTOR_SECTIONS: tuple[str, ...] = (
    "Description",
    "Data sources",
    "Processing steps",
    "Output",
    "Failure modes",
    *FAILURE_MODES,
    "Monitoring and alerts",
    "First response",
    "Rollback",
)
"""Investor numbers leave the company, so their run books must be complete."""

FAILURE_MODE_LABELS: tuple[str, ...] = ("Symptoms", "Potential causes")
"""Bold labels each failure mode needs: what you see, then what to suspect."""

STALE_AFTER = timedelta(days=90)
MAX_SECTION_CHARS = 2800
"""Slack section blocks hold 3,000 characters; keep headroom for the mrkdwn conversion."""

_PARENTS: dict[str, str] = {
    "Data sources": "Description",
    "Processing steps": "Description",
    "Output": "Description",
    **dict.fromkeys(FAILURE_MODES, "Failure modes"),
}
_LABEL = re.compile(r"\*\*(.+?):?\*\*:?")

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem in one run book; ``section`` is None for whole-file problems."""

    path: Path
    section: str | None
    message: str
    severity: Severity

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.section is not None:
            where += f": section '{self.section}'"
        return f"{where}: {self.message}"


def check_runbooks(
    investor_slugs: Iterable[str], all_slugs: Iterable[str], today: date, directory: Path = RUNBOOK_DIR
) -> list[Finding]:
    """Check every catalogued pipeline's run book plus any stray file, in slug order."""
    investors = set(investor_slugs)
    known = set(all_slugs) | investors
    findings: list[Finding] = []
    for slug in sorted(known | set(available_runbooks(directory))):
        findings.extend(_check_one(slug, slug in investors, slug in known, today, directory))
    return findings


def labelled_items(body: str) -> dict[str, list[str]]:
    """Map each bold label line (``**Symptoms**``), casefolded, to the ``- `` bullets under it."""
    items: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        label = _LABEL.fullmatch(line.strip())
        if label:
            current = items.setdefault(label.group(1).strip().casefold(), [])
        elif current is not None and line.startswith("- ") and line[2:].strip():
            current.append(line[2:].strip())
    return items


def _check_one(slug: str, investor: bool, known: bool, today: date, directory: Path) -> list[Finding]:
    """All findings for one slug; a file that does not parse gets only that one error."""
    path = directory / f"{slug}.md"
    findings: list[Finding] = []
    if not known:
        findings.append(Finding(path, None, "orphan run book: no pipeline with this slug", "warning"))
    try:
        runbook = load_runbook(slug, directory)
    except RunbookError as exc:
        return [*findings, Finding(path, None, exc.reason, "error")]
    findings += _check_review_date(runbook, today)
    findings += _check_lengths(runbook)
    if investor:
        findings += _check_required_sections(runbook)
        findings += _check_failure_modes(runbook)
    return findings


def _check_review_date(runbook: Runbook, today: date) -> list[Finding]:
    """Stale run books mislead; a future date means someone typed it wrong."""
    reviewed = runbook.last_reviewed
    age = today - reviewed
    if age < timedelta(0):
        message = f"last_reviewed {reviewed} is in the future (today is {today})"
        return [Finding(runbook.path, None, message, "error")]
    if age > STALE_AFTER:
        message = f"last reviewed {age.days} days ago on {reviewed} (review at least every {STALE_AFTER.days} days)"
        return [Finding(runbook.path, None, message, "warning")]
    return []


def _check_lengths(runbook: Runbook) -> list[Finding]:
    """Sections longer than a Slack block would be rejected by Slack when the bot posts them."""
    return [
        Finding(
            runbook.path,
            sec.title,
            f"body is {len(sec.body)} characters; keep it at most {MAX_SECTION_CHARS} for Slack",
            "error",
        )
        for sec in runbook.sections
        if len(sec.body) > MAX_SECTION_CHARS
    ]


def _check_required_sections(runbook: Runbook) -> list[Finding]:
    """Every required section must exist, have content, and sit under the right parent."""
    findings: list[Finding] = []
    for title in REQUIRED_INVESTOR_SECTIONS:
        sec = runbook.section(title)
        problem = "missing" if sec is None else _section_problem(runbook, sec, title)
        if problem:
            findings.append(Finding(runbook.path, title, problem, "error"))
    return findings


def _section_problem(runbook: Runbook, sec: Section, title: str) -> str | None:
    """Why a present required section is not acceptable, or None if it is fine."""
    parent = _PARENTS.get(title)
    if parent is None and sec.level != 2:
        return "should be a '##' section"
    if parent is not None and sec not in runbook.subsections(parent):
        return f"should be a '###' section under '{parent}'"
    if not _has_content(runbook, sec):
        return "empty"
    return None


def _has_content(runbook: Runbook, sec: Section) -> bool:
    """A ``##`` section may hold all its text in its ``###`` children (e.g. Failure modes)."""
    if sec.body:
        return True
    return sec.level == 2 and any(child.body for child in runbook.subsections(sec.title))


def _check_failure_modes(runbook: Runbook) -> list[Finding]:
    """Each failure mode must say what it looks like and what usually causes it."""
    findings: list[Finding] = []
    for mode in runbook.subsections("Failure modes"):
        items = labelled_items(mode.body)
        for label in FAILURE_MODE_LABELS:
            bullets = items.get(label.casefold())
            if bullets is None:
                findings.append(Finding(runbook.path, mode.title, f"missing **{label}**", "error"))
            elif not bullets:
                message = f"**{label}** has no '- ' bullet items"
                findings.append(Finding(runbook.path, mode.title, message, "error"))
    return findings
