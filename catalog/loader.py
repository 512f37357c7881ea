"""Read and validate a team file, naming the file, entry and field of every problem.

Validation happens entirely before anything touches the database, so a bad file
changes nothing. Every problem is reported at once, one line each: the schema's field
errors, and the cross-references (duplicate ids, owners who are not members, pipelines
without a run book), which read the ids straight from the parsed YAML so they run even
when other fields of the same entries are wrong.
"""

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from catalog.schema import CatalogFile, Slug, is_placeholder
from core.errors import OncallError

_PYDANTIC_MESSAGES = {
    "missing": "missing required field",
    "extra_forbidden": "unknown field (check the spelling)",
    "model_type": "expected a mapping of fields (key: value lines), not a single value or a list",
}
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")  # YAML 1.1's base 60
_SLUG = TypeAdapter(Slug)
_MAX_NAME = 40


class CatalogError(OncallError):
    """The team file is invalid; the message has one line per problem."""


class _TeamFileLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but scalars that only look like dates or clock times stay text.

    Its date constructor raises a bare ValueError on `2027-02-30` from deep inside the
    parser, and YAML 1.1 reads an unquoted `10:00` as the number 600. Days are parsed by
    `core.dates.parse_day` in the schema instead, which names what is wrong. Scalars that
    fail to build anyway (`!!int abc`, `0b_`) become YAML errors with a line and column.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, LookupError):  # what int(), float(), `value[0]` and the bool table raise
            kind = node.tag.rsplit(":", 1)[-1]
            problem = f"{_quoted(str(node.value))} is not a valid {kind}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def _as_text(loader: _TeamFileLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_TeamFileLoader.add_constructor(_TIMESTAMP_TAG, _as_text)  # date-shaped, or tagged !!timestamp
_TeamFileLoader.yaml_implicit_resolvers = {  # a copy: SafeLoader itself keeps YAML 1.1's base 60
    first: [(_STR_TAG, _SEXAGESIMAL)] * (first in "+-0123456789") + resolvers  # before int and float
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_catalog(path: Path, *, runbooks: Collection[str]) -> CatalogFile:
    """Parse and fully validate `path`; `runbooks` are the ids that have a run book file
    (the caller finds them: run books sit in a layer above the catalog)."""
    raw = _read_yaml(path)
    problems: list[str] = []
    catalog: CatalogFile | None = None
    try:
        catalog = CatalogFile.model_validate(raw)
    except ValidationError as error:
        problems += _schema_problems(raw, error)
    problems += _cross_reference_problems(raw, runbooks)
    if catalog is None or problems:
        raise CatalogError("\n".join(f"{path}: {_one_line(problem)}" for problem in problems))
    return catalog


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found (set ONCALL_TEAM_FILE or pass the path)") from None
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise CatalogError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return yaml.load(text, Loader=_TeamFileLoader)  # a SafeLoader: builds no arbitrary objects
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: {_one_line(_yaml_problem(error, text))}") from None
    except RecursionError:
        raise CatalogError(f"{path}: nested too deeply to read") from None


def _yaml_problem(error: yaml.YAMLError, text: str) -> str:
    """`line 12, column 7: expected ',' or ']'`: where the parser noticed, and what."""
    if isinstance(error, yaml.reader.ReaderError):  # a control character: it knows only the offset
        before = text[: error.position]
        where = f"line {before.count(chr(10)) + 1}, column {len(before) - before.rfind(chr(10))}"
        return f"{where}: {chr(error.character)!r} is not allowed in YAML"
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(error, "problem", None) or "not valid YAML"
    return f"{where}{problem}"


def _schema_problems(raw: Any, error: ValidationError) -> list[str]:
    lines = []
    details = error.errors()
    failed_items = {tuple(d["loc"][:i]) for d in details for i, key in enumerate(d["loc"]) if isinstance(key, int)}
    for detail in details:
        if detail["type"] == "too_short" and tuple(detail["loc"]) in failed_items:
            continue  # pydantic counts only the valid items: the real problem is reported inside
        location = describe_location(raw, detail["loc"])
        message = _PYDANTIC_MESSAGES.get(detail["type"], detail["msg"].removeprefix("Value error, "))
        lines.append(f"{location}: {message}" if location else message)
    return lines


def describe_location(raw: Any, loc: Sequence[int | str]) -> str:
    """Turn ('teams', 0, 'pipelines', 2, 'secondary') into
    "teams[0] data-eng: pipelines[2] aggregate-growth: secondary", naming entries by id."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and parts:
            parts[-1] += _entry_label(node, key)
        else:
            parts.append(_shown(key))
        node = node[key] if _has(node, key) else None
    return ": ".join(parts)


def _entry_label(items: list[Any], index: int) -> str:
    """`[2] aggregate-growth`: the entry's place, and its id when it has one."""
    entry = items[index] if 0 <= index < len(items) else None
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    return f"[{index}]" + (f" {_shown(entry_id)}" if entry_id not in (None, "") else "")


def _shown(value: object) -> str:
    """An id from the file as it can sit in a one-line message: short, printable."""
    return _short(value if isinstance(value, str) and value.isprintable() else repr(value))


def _quoted(value: str) -> str:
    """`'dana2'`: a value from the file, quoted, short and printable."""
    return _short(repr(value))


def _short(text: str) -> str:
    return text if len(text) <= _MAX_NAME else text[: _MAX_NAME - 1] + "…"


def _one_line(text: str) -> str:
    """Each problem is one line, even when a value quoted in it holds a line break."""
    return "\\n".join(text.splitlines())


def _has(node: Any, key: int | str) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _entries(node: Any, field: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    """(`teams[0] data-eng: members[1] bob`, entry) for each mapping under `field`;
    anything else there is the schema's to report."""
    items = node.get(field) if isinstance(node, dict) else None
    if not isinstance(items, list):
        return []
    prefix = f"{where}: {field}" if where else field
    return [(prefix + _entry_label(items, i), item) for i, item in enumerate(items) if isinstance(item, dict)]


def _text(entry: dict[str, Any], field: str) -> str | None:
    """The field when it is text; any other value is already a schema problem."""
    value = entry.get(field)
    return value if isinstance(value, str) else None


def _cross_reference_problems(raw: Any, runbooks: Collection[str]) -> Iterable[str]:
    """Problems no single field can see: duplicate ids, owners who are not members,
    pipelines without a run book."""
    teams = _entries(raw, "teams", "")
    yield from _duplicates([(where, _text(team, "id")) for where, team in teams], "team")
    members = [entry for where, team in teams for entry in _entries(team, "members", where)]
    yield from _duplicates([(where, _text(member, "id")) for where, member in members], "member")
    pipelines = [entry for where, team in teams for entry in _entries(team, "pipelines", where)]
    yield from _duplicates([(where, _text(pipeline, "id")) for where, pipeline in pipelines], "pipeline")
    groups = [(where, (_text(team, "oncall_group") or "").removeprefix("@") or None) for where, team in teams]
    yield from _duplicates(groups, "team", "oncall_group")  # two teams would overwrite one group's people
    for where, team in teams:
        yield from _team_problems(where, team, runbooks)


def _duplicates(entries: list[tuple[str, str | None]], kind: str, field: str = "id") -> Iterable[str]:
    """Every entry reusing an id (or another unique `field`), named by its place in the
    file and the first user's."""
    first: dict[str, str] = {}
    for where, entry_id in entries:
        if entry_id is None:
            continue
        if entry_id in first:
            yield f"{where}: {field}: duplicate {kind} {field} {_quoted(entry_id)} (already used by {first[entry_id]})"
        else:
            first[entry_id] = where


def _team_problems(where: str, team: dict[str, Any], runbooks: Collection[str]) -> Iterable[str]:
    """Owners must be members of the pipeline's team, two different ones, and each
    pipeline needs its run book. A member whose entry is otherwise wrong still counts as a
    member, so the pipelines they own stay quiet."""
    members = [member for _, member in _entries(team, "members", where)]
    member_ids = {_text(member, "id") for member in members}
    yield from (
        f"{where}: members: duplicate slack_id {_quoted(slack_id)}"
        for slack_id, count in Counter(_text(member, "slack_id") for member in members).items()
        if slack_id is not None and not is_placeholder(slack_id) and count > 1  # placeholders name nobody yet
    )
    team_id = _text(team, "id")
    team_name = f"team {_shown(team_id)}" if team_id else "the team"
    for entry, pipeline in _entries(team, "pipelines", where):
        owners = {role: _text(pipeline, role) for role in ("primary", "secondary")}
        for role, owner in owners.items():
            if owner is not None and owner not in member_ids:
                yield f"{entry}: {role} {_quoted(owner)} is not a member of {team_name}"
        if owners["primary"] is not None and owners["primary"] == owners["secondary"]:
            yield f"{entry}: secondary {_quoted(owners['primary'])} is also the primary (they must differ)"
        pipeline_id = _text(pipeline, "id")
        if pipeline_id is not None and _is_slug(pipeline_id) and pipeline_id not in runbooks:
            yield f"{entry}: no run book runbooks/{pipeline_id}.md"


def _is_slug(text: str) -> bool:
    """Only a well-formed id can name a run book file; a malformed one is reported as such."""
    try:
        _SLUG.validate_python(text)
    except ValidationError:
        return False
    return True
