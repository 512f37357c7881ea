"""Parse run book Markdown files into a typed structure.

Run books are written by people in a restricted Markdown subset and rendered by the
bot section by section, so the parser is strict: anything it cannot place in a
section is an error rather than text that silently never reaches Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from core.errors import OncallError

RUNBOOK_DIR: Path = Path(__file__).parent
"""Folder holding the shipped ``<slug>.md`` files (installed as package data)."""

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""Slugs are also file names, so anything else (``..``, ``/``) is refused up front."""

_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_FRONT_MATTER_DELIMITER = "---"


class RunbookError(OncallError):
    """A run book is missing or malformed; the message names the file so it can be fixed."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{display_path(path)}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Section:
    """One ``##`` or ``###`` heading and the Markdown up to the next heading of any level."""

    title: str
    level: int
    body: str


@dataclass(frozen=True)
class Runbook:
    """A parsed run book; sections are kept flat, in file order, as the bot renders them."""

    slug: str
    title: str
    last_reviewed: date
    sections: tuple[Section, ...]
    path: Path

    def section(self, title: str) -> Section | None:
        """Find a section by title, ignoring case, because people type titles by hand."""
        wanted = title.casefold()
        return next((s for s in self.sections if s.title.casefold() == wanted), None)

    def markdown(self) -> str:
        """The document as Markdown without its front matter, for the terminal."""
        parts = [f"# {self.title}"]
        parts += [f"{'#' * sec.level} {sec.title}\n{sec.body}".rstrip() for sec in self.sections]
        return "\n\n".join(parts)

    def subsections(self, title: str) -> tuple[Section, ...]:
        """The ``###`` sections under the ``##`` section ``title`` (e.g. each failure mode)."""
        wanted = title.casefold()
        children: list[Section] = []
        inside = False
        for sec in self.sections:
            if sec.level == 2:
                inside = sec.title.casefold() == wanted
            elif inside:
                children.append(sec)
        return tuple(children)


def display_path(path: Path) -> str:
    """Show paths relative to the working directory when possible, for short messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def available_runbooks(directory: Path = RUNBOOK_DIR) -> list[str]:
    """Slugs of the run book files present; other Markdown (e.g. a README) is not a run book."""
    return sorted(p.stem for p in directory.glob("*.md") if SLUG_PATTERN.fullmatch(p.stem))


def load_runbook(slug: str, directory: Path = RUNBOOK_DIR) -> Runbook:
    """Read and parse ``<directory>/<slug>.md``; slugs may come from Slack users, so validate."""
    path = directory / f"{slug}.md"
    if not SLUG_PATTERN.fullmatch(slug):
        raise RunbookError(path, f"{slug!r} is not a valid pipeline slug")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunbookError(path, f"no run book file for pipeline {slug!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookError(path, f"cannot read file: {exc}") from exc
    return parse_runbook(text, path)


def parse_runbook(text: str, path: Path) -> Runbook:
    """Parse run book text; ``path`` gives the slug (its stem) and names the file in errors."""
    meta, body_lines, first_line = _split_front_matter(text, path)
    pipeline, last_reviewed = _read_front_matter(meta, path)
    if pipeline != path.stem:
        raise RunbookError(path, f"front matter says pipeline {pipeline!r} but the file is named {path.name}")
    title, sections = _parse_body(body_lines, first_line, path)
    return Runbook(path.stem, title, last_reviewed, sections, path)


def _split_front_matter(text: str, path: Path) -> tuple[str, list[str], int]:
    """Split off the YAML between the leading ``---`` lines; also return the body's first line number."""
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != _FRONT_MATTER_DELIMITER:
        raise RunbookError(path, "missing front matter (the file must start with a '---' line)")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == _FRONT_MATTER_DELIMITER:
            return "\n".join(lines[1:index]), lines[index + 1 :], index + 2
    raise RunbookError(path, "front matter is not closed by a second '---' line")


def _read_front_matter(meta: str, path: Path) -> tuple[str, date]:
    """Validate the two keys the bot relies on: ``pipeline`` and ``last_reviewed``."""
    try:
        data: Any = yaml.safe_load(meta)
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for dates like 2026-13-01
        raise RunbookError(path, f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RunbookError(path, "front matter must be a YAML mapping with 'pipeline' and 'last_reviewed'")
    pipeline = data.get("pipeline")
    if not isinstance(pipeline, str) or not pipeline:
        raise RunbookError(path, "front matter needs 'pipeline: <slug>'")
    return pipeline, _as_date(data.get("last_reviewed"), path)


def _as_date(value: object, path: Path) -> date:
    """Accept a YAML date or an ISO string; timestamps are refused as they hint at a typo."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise RunbookError(path, f"front matter 'last_reviewed' must be a date like 2026-11-20, got {value!r}")


@dataclass
class _OpenSection:
    """A section whose body lines are still being collected."""

    title: str
    level: int
    lines: list[str]

    def close(self) -> Section:
        return Section(self.title, self.level, "\n".join(self.lines).strip())


def _parse_body(lines: list[str], first_line: int, path: Path) -> tuple[str, tuple[Section, ...]]:
    """Split the Markdown body into the ``#`` title and flat ``##``/``###`` sections."""
    title: str | None = None
    open_sections: list[_OpenSection] = []
    for number, line, heading in _classify_lines(lines, first_line, path):
        if heading is None:
            _add_text(line, title, open_sections, path, number)
        elif title is None:
            title = _read_title(heading, path, number)
        else:
            open_sections.append(_new_section(heading, open_sections, path, number))
    if title is None:
        raise RunbookError(path, "missing '# Title' heading")
    sections = tuple(s.close() for s in open_sections)
    _check_unique_titles(sections, path)
    return title, sections


def _classify_lines(lines: list[str], first_line: int, path: Path) -> list[tuple[int, str, tuple[int, str] | None]]:
    """Pair each line with its heading (level, text), skipping ``#`` lines inside code fences."""
    result: list[tuple[int, str, tuple[int, str] | None]] = []
    fence: str | None = None
    fence_line = 0
    for number, line in enumerate(lines, start=first_line):
        match = _FENCE.fullmatch(line)
        if fence is None and match and _opens(match):
            fence, fence_line = match.group(1), number
        elif fence is not None and match and _closes(match, fence):
            fence = None
        heading = _heading(line) if fence is None else None
        result.append((number, line, heading))
    if fence is not None:
        raise RunbookError(path, f"code fence opened on line {fence_line} is never closed")
    return result


def _opens(match: re.Match[str]) -> bool:
    """Backtick fences may not have backticks in the info string (that is inline code)."""
    marker, rest = match.group(1), match.group(2)
    return marker[0] == "~" or "`" not in rest


def _closes(match: re.Match[str], fence: str) -> bool:
    """A fence closes with the same character, at least as long, and no info string."""
    marker, rest = match.group(1), match.group(2)
    return marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip()


def _heading(line: str) -> tuple[int, str] | None:
    """Return (level, text) for an ATX heading line; ``#alerts-x`` with no space is plain text."""
    match = _HEADING.fullmatch(line)
    if match is None:
        return None
    return len(match.group(1)), (match.group(2) or "").strip()


def _read_title(heading: tuple[int, str], path: Path, number: int) -> str:
    """The first heading must be the single ``#`` title the bot shows at the top."""
    level, text = heading
    if level != 1 or not text:
        raise RunbookError(path, f"line {number}: expected the '# Title' heading first")
    return text


def _new_section(heading: tuple[int, str], open_sections: list[_OpenSection], path: Path, number: int) -> _OpenSection:
    """Start a section, rejecting heading levels and orders the bot cannot render."""
    level, text = heading
    if level == 1:
        raise RunbookError(path, f"line {number}: only one '#' title heading is allowed")
    if level > 3:
        raise RunbookError(path, f"line {number}: heading level {level} is not supported (use ## or ###)")
    if not text:
        raise RunbookError(path, f"line {number}: empty heading")
    if level == 3 and not open_sections:
        raise RunbookError(path, f"line {number}: '### {text}' comes before any '##' section")
    return _OpenSection(text, level, [])


def _add_text(line: str, title: str | None, open_sections: list[_OpenSection], path: Path, number: int) -> None:
    """Append a line to the current section; text outside any section would never be shown."""
    if open_sections:
        open_sections[-1].lines.append(line)
    elif line.strip():
        where = "the '# Title' heading" if title is None else "the first '##' section"
        raise RunbookError(path, f"line {number}: text before {where} is not part of any section")


def _check_unique_titles(sections: tuple[Section, ...], path: Path) -> None:
    """Sections are looked up by title, so a repeated title would hide one of them."""
    seen: set[str] = set()
    for sec in sections:
        key = sec.title.casefold()
        if key in seen:
            raise RunbookError(path, f"section {sec.title!r} appears more than once")
        seen.add(key)
