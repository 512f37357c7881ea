"""Read and validate a team file, naming the file, entry and field of every problem.

Validation happens entirely before anything touches the database, so a bad file
changes nothing.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from catalog.schema import CatalogFile, TeamEntry
from core.errors import OncallError

_PYDANTIC_MESSAGES = {
    "missing": "missing required field",
    "extra_forbidden": "unknown field (check the spelling)",
}


class CatalogError(OncallError):
    """The team file is invalid; the message has one line per problem."""


def load_catalog(path: Path) -> CatalogFile:
    """Parse and fully validate `path`."""
    raw = _read_yaml(path)
    try:
        catalog = CatalogFile.model_validate(raw)
    except ValidationError as error:
        raise CatalogError(_format_errors(path, raw, error)) from None
    problems = list(_cross_reference_problems(catalog))
    if problems:
        raise CatalogError("\n".join(f"{path}: {problem}" for problem in problems))
    return catalog


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found (set ONCALL_TEAM_FILE or pass the path)") from None
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise CatalogError(f"{path}: {where}{problem}") from None


def _format_errors(path: Path, raw: Any, error: ValidationError) -> str:
    lines = []
    details = error.errors()
    failed_items = {tuple(d["loc"][:i]) for d in details for i, key in enumerate(d["loc"]) if isinstance(key, int)}
    for detail in details:
        if detail["type"] == "too_short" and tuple(detail["loc"]) in failed_items:
            continue  # pydantic counts only the valid items: the real problem is reported inside
        location = describe_location(raw, detail["loc"])
        message = _PYDANTIC_MESSAGES.get(detail["type"], detail["msg"].removeprefix("Value error, "))
        lines.append(f"{path}: {location}: {message}" if location else f"{path}: {message}")
    return "\n".join(lines)


def describe_location(raw: Any, loc: Sequence[int | str]) -> str:
    """Turn ('teams', 0, 'pipelines', 2, 'secondary') into
    "teams[0] data-eng: pipelines[2] aggregate-growth: secondary", naming entries by id."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int) and parts:
            entry_id = node[key].get("id") if _has(node, key) and isinstance(node[key], dict) else None
            parts[-1] += f"[{key}]" + (f" {entry_id}" if entry_id else "")
        else:
            parts.append(str(key))
        node = node[key] if _has(node, key) else None
    return ": ".join(parts)


def _has(node: Any, key: int | str) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _cross_reference_problems(catalog: CatalogFile) -> Iterable[str]:
    """Problems no single field can see: duplicate ids, owners who are not members."""
    teams = [(f"teams[{i}] {team.id}", team) for i, team in enumerate(catalog.teams)]
    yield from _duplicates([(where, team.id) for where, team in teams], "team")
    all_members = [
        (f"{where}: members[{j}] {member.id}", member.id)
        for where, team in teams
        for j, member in enumerate(team.members)
    ]
    yield from _duplicates(all_members, "member")
    all_pipelines = [
        (f"{where}: pipelines[{j}] {pipeline.id}", pipeline.id)
        for where, team in teams
        for j, pipeline in enumerate(team.pipelines)
    ]
    yield from _duplicates(all_pipelines, "pipeline")
    for index, team in enumerate(catalog.teams):
        yield from _team_problems(f"teams[{index}] {team.id}", team)


def _duplicates(entries: list[tuple[str, str]], kind: str) -> Iterable[str]:
    """Every entry reusing an id, named by its place in the file and the first user's."""
    first: dict[str, str] = {}
    for where, entry_id in entries:
        if entry_id in first:
            yield f"{where}: id: duplicate {kind} id '{entry_id}' (already used by {first[entry_id]})"
        else:
            first[entry_id] = where


def _team_problems(where: str, team: TeamEntry) -> Iterable[str]:
    members = {member.id for member in team.members}
    yield from (
        f"{where}: members: duplicate slack_id '{slack_id}'"
        for slack_id, count in Counter(member.slack_id for member in team.members).items()
        if count > 1
    )
    for index, pipeline in enumerate(team.pipelines):
        entry = f"{where}: pipelines[{index}] {pipeline.id}"
        for role in ("primary", "secondary"):
            owner = getattr(pipeline, role)
            if owner not in members:
                yield f"{entry}: {role} '{owner}' is not a member of team {team.id}"
        if pipeline.primary == pipeline.secondary:
            yield f"{entry}: secondary '{pipeline.secondary}' is also the primary (they must differ)"
