"""Tests for run book parsing and the ``oncall runbook --check`` linter.

The shipped run books are tested as content (they are what on-call reads at 3 a.m.),
and every lint rule is exercised with a small bad file written to ``tmp_path``.
"""

from __future__ import annotations

import difflib
import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from runbooks.document import RUNBOOK_DIR, RunbookError, available_runbooks, load_runbook
from runbooks.lint import (
    FAILURE_MODES,
    MAX_SECTION_CHARS,
    REQUIRED_INVESTOR_SECTIONS,
    STALE_AFTER,
    Finding,
    check_runbooks,
    labelled_items,
)

TODAY = date(2026, 12, 1)
INVESTOR = ("aggregate-profit", "aggregate-growth", "aggregate-engagement")
EXPERIMENT = ("unit-profit", "daily-growth")
ALL = INVESTOR + EXPERIMENT
TITLES = {
    "unit-profit": "Unit-level Profit for Experiments",
    "aggregate-profit": "Aggregate Profit for Investors",
    "aggregate-growth": "Aggregate Growth for Investors",
    "daily-growth": "Daily Growth for Experiments",
    "aggregate-engagement": "Aggregate Engagement for Investors",
}
SOURCES = {
    "unit-profit": ("orders_db.orders", "finance.unit_costs", "experiments.assignments"),
    "aggregate-profit": ("erp.gl_entries", "orders_db.orders", "fx.daily_rates"),
    "aggregate-growth": ("app_db.users", "events.activation", "ads.spend"),
    "daily-growth": ("events.activation", "experiments.assignments"),
    "aggregate-engagement": ("events.clickstream", "events.sessions", "app_db.users"),
}
CHANNELS = {
    "unit-profit": "#alerts-profit",
    "aggregate-profit": "#alerts-profit",
    "aggregate-growth": "#alerts-growth",
    "daily-growth": "#alerts-growth",
    "aggregate-engagement": "#alerts-engagement",
}
CHILDREN: dict[str, tuple[str, ...]] = {
    "Description": ("Data sources", "Processing steps", "Output"),
    "Failure modes": FAILURE_MODES,
}
EXPERIMENT_SECTIONS = ("Description", "Failure modes", "Monitoring and alerts", "First response")


# --- helpers -----------------------------------------------------------------------------


def front_matter(slug: str, reviewed: str = "2026-11-20") -> str:
    """Front matter block as the shipped files write it."""
    return f"---\npipeline: {slug}\nlast_reviewed: {reviewed}\n---\n"


def failure_mode_body(name: str) -> str:
    """A minimal valid failure mode, distinct per mode."""
    return f"**Symptoms**\n- {name} symptom\n\n**Potential causes**\n- {name} cause"


def investor_book(
    slug: str = "aggregate-growth",
    reviewed: str = "2026-11-20",
    skip: tuple[str, ...] = (),
    bodies: dict[str, str] | None = None,
) -> str:
    """A minimal complete investor run book; ``skip`` drops sections, ``bodies`` overrides them."""
    bodies = bodies or {}
    parts = [front_matter(slug, reviewed), "# Title\n"]
    for title in ("Description", "Failure modes", "Monitoring and alerts", "First response", "Rollback"):
        for level, name in ((2, title), *((3, c) for c in CHILDREN.get(title, ()))):
            if name in skip:
                continue
            default = failure_mode_body(name) if name in FAILURE_MODES else f"Text for {name}."
            parts.append(f"{'#' * level} {name}\n{bodies.get(name, default)}\n")
    return "\n".join(parts)


def write(directory: Path, slug: str, text: str) -> Path:
    """Write ``<slug>.md`` into ``directory`` and return its path."""
    path = directory / f"{slug}.md"
    path.write_text(text, encoding="utf-8")
    return path


def check(directory: Path, slug: str = "aggregate-growth", today: date = TODAY) -> list[Finding]:
    """Lint one investor slug in ``directory``."""
    return check_runbooks([slug], [slug], today, directory)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def warnings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "warning"]


def strip_code(text: str) -> str:
    """Remove fenced blocks and inline code, where placeholders like ``<date>`` are fine."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


# --- shipped run books -------------------------------------------------------------------


def test_shipped_runbooks_are_exactly_the_five_pipelines() -> None:
    assert available_runbooks() == sorted(ALL)


def test_shipped_runbooks_pass_the_linter() -> None:
    assert check_runbooks(INVESTOR, ALL, TODAY) == []


@pytest.mark.parametrize("slug", ALL)
def test_shipped_runbook_metadata(slug: str) -> None:
    book = load_runbook(slug)
    assert book.slug == slug
    assert book.title == TITLES[slug]
    assert book.path == RUNBOOK_DIR / f"{slug}.md"
    assert date(2026, 10, 1) <= book.last_reviewed <= date(2026, 11, 30)


@pytest.mark.parametrize("slug", ALL)
def test_shipped_runbook_fits_in_slack(slug: str) -> None:
    book = load_runbook(slug)
    assert len(book.path.read_text(encoding="utf-8")) < 9000
    for sec in book.sections:
        assert len(sec.body) < MAX_SECTION_CHARS, sec.title


@pytest.mark.parametrize("slug", ALL)
def test_shipped_runbook_names_sources_and_alert_channel(slug: str) -> None:
    book = load_runbook(slug)
    text = "\n".join(sec.body for sec in book.sections)
    for source in SOURCES[slug]:
        assert source in text
    monitoring = book.section("Monitoring and alerts")
    assert monitoring is not None
    assert CHANNELS[slug] in monitoring.body


@pytest.mark.parametrize("slug", ALL)
def test_shipped_runbook_uses_only_the_supported_markdown(slug: str) -> None:
    text = strip_code(load_runbook(slug).path.read_text(encoding="utf-8"))
    assert "![" not in text
    assert not re.search(r"</?[a-zA-Z][^>]*>", text), "HTML tag"
    assert not re.search(r"^\s*\|", text, flags=re.M), "table row"
    assert not re.search(r"^#{4,} ", text, flags=re.M), "heading deeper than ###"


@pytest.mark.parametrize("slug", ALL)
def test_first_response_is_numbered_with_commands(slug: str) -> None:
    first = load_runbook(slug).section("First response")
    assert first is not None
    steps = [line for line in first.body.splitlines() if re.match(r"\d+\. ", line)]
    assert len(steps) >= 4
    assert sum("`" in step for step in steps) >= 3


@pytest.mark.parametrize("slug", EXPERIMENT)
def test_experiment_runbooks_have_the_short_sections(slug: str) -> None:
    book = load_runbook(slug)
    for title in EXPERIMENT_SECTIONS:
        sec = book.section(title)
        assert sec is not None and sec.level == 2, title
    modes = book.subsections("Failure modes")
    assert len(modes) >= 3
    for mode in modes:
        items = labelled_items(mode.body)
        assert items.get("symptoms") and items.get("potential causes"), mode.title


def failure_bullets(slug: str) -> set[str]:
    """All Symptoms and Potential causes bullets of a run book."""
    bullets: set[str] = set()
    for mode in load_runbook(slug).subsections("Failure modes"):
        for items in labelled_items(mode.body).values():
            bullets.update(items)
    return bullets


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(INVESTOR, 2)))
def test_investor_runbooks_share_no_failure_bullets(a: str, b: str) -> None:
    assert failure_bullets(a) & failure_bullets(b) == set()


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(INVESTOR, 2)))
def test_investor_failure_modes_are_not_renamed_copies(a: str, b: str) -> None:
    """Word-level similarity catches a copy with only table and metric names swapped."""
    book_a, book_b = load_runbook(a), load_runbook(b)
    for title in FAILURE_MODES:
        sec_a, sec_b = book_a.section(title), book_b.section(title)
        assert sec_a is not None and sec_b is not None
        matcher = difflib.SequenceMatcher(None, sec_a.body.split(), sec_b.body.split(), autojunk=False)
        assert matcher.ratio() < 0.5, title


# --- parsing -----------------------------------------------------------------------------


def test_parse_minimal_investor_book(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book())
    book = load_runbook("aggregate-growth", tmp_path)
    assert book.title == "Title"
    assert book.last_reviewed == date(2026, 11, 20)
    assert [s.title for s in book.sections][:4] == [
        "Description",
        "Data sources",
        "Processing steps",
        "Output",
    ]
    assert book.section("data SOURCES") == book.sections[1]
    assert book.section("Nope") is None
    assert [s.title for s in book.subsections("failure modes")] == list(FAILURE_MODES)
    assert check(tmp_path) == []


def test_section_body_stops_at_next_heading_of_any_level(tmp_path: Path) -> None:
    text = front_matter("x") + "# T\n\n## A\n\nalpha\n\n### B\nbeta\n## C\ngamma\n"
    write(tmp_path, "x", text)
    book = load_runbook("x", tmp_path)
    assert [(s.title, s.level, s.body) for s in book.sections] == [
        ("A", 2, "alpha"),
        ("B", 3, "beta"),
        ("C", 2, "gamma"),
    ]


def test_heading_inside_code_fence_is_ignored(tmp_path: Path) -> None:
    fenced = "Run this:\n\n```bash\n# not a heading\n## Rollback\n```\n\nDone."
    write(tmp_path, "aggregate-growth", investor_book(skip=("Rollback",), bodies={"First response": fenced}))
    book = load_runbook("aggregate-growth", tmp_path)
    first = book.section("First response")
    assert first is not None
    assert "## Rollback" in first.body
    assert first.body.endswith("Done.")
    assert book.section("Rollback") is None
    [finding] = check(tmp_path)
    assert str(finding).endswith("aggregate-growth.md: section 'Rollback': missing")


def test_hash_without_space_is_not_a_heading(tmp_path: Path) -> None:
    write(tmp_path, "x", front_matter("x") + "# T\n## Alerts\n#alerts-growth gets them\n")
    assert load_runbook("x", tmp_path).sections[0].body == "#alerts-growth gets them"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("# T\n## A\nbody\n", "missing front matter"),
        ("---\npipeline: x\nlast_reviewed: 2026-11-20\n# T\n", "not closed"),
        ("---\npipeline: [x\n---\n# T\n", "not valid YAML"),
        ("---\n- x\n---\n# T\n", "YAML mapping"),
        ("---\nlast_reviewed: 2026-11-20\n---\n# T\n", "'pipeline"),
        ("---\npipeline: x\nlast_reviewed: 2026-13-01\n---\n# T\n", "not valid YAML"),
        ("---\npipeline: x\nlast_reviewed: soon\n---\n# T\n", "last_reviewed"),
        ("---\npipeline: x\n---\n# T\n", "last_reviewed"),
        ("---\npipeline: x\nlast_reviewed: 2026-11-20 10:00:00\n---\n# T\n", "last_reviewed"),
        ("---\npipeline: y\nlast_reviewed: 2026-11-20\n---\n# T\n", "pipeline 'y'"),
    ],
)
def test_bad_front_matter(tmp_path: Path, text: str, reason: str) -> None:
    write(tmp_path, "x", text)
    with pytest.raises(RunbookError, match=reason) as caught:
        load_runbook("x", tmp_path)
    assert "x.md" in str(caught.value)
    [finding] = check(tmp_path, "x")
    assert finding.severity == "error" and finding.section is None
    assert reason in finding.message


def test_quoted_iso_date_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, "x", "---\npipeline: x\nlast_reviewed: '2026-11-20'\n---\n# T\n")
    assert load_runbook("x", tmp_path).last_reviewed == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("## A\ntext\n", "expected the '# Title'"),
        ("intro\n# T\n", "text before the '# Title'"),
        ("# T\nintro\n## A\n", "text before the first '##'"),
        ("# T\n### A\n", "before any '##'"),
        ("# T\n## A\n# U\n", "only one '#'"),
        ("# T\n## A\n#### B\n", "level 4"),
        ("# T\n## A\n## a\n", "more than once"),
        ("# T\n## A\n```\n## B\n", "never closed"),
        ("", "missing '# Title'"),
    ],
)
def test_malformed_body(tmp_path: Path, body: str, reason: str) -> None:
    write(tmp_path, "x", front_matter("x") + body)
    with pytest.raises(RunbookError, match=reason):
        load_runbook("x", tmp_path)


def test_error_reports_the_line_number(tmp_path: Path) -> None:
    write(tmp_path, "x", front_matter("x") + "# T\n## A\n#### B\n")
    with pytest.raises(RunbookError, match="line 7:"):
        load_runbook("x", tmp_path)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="no run book file") as caught:
        load_runbook("daily-growth", tmp_path)
    assert caught.value.path == tmp_path / "daily-growth.md"


@pytest.mark.parametrize("slug", ["../team", "a/b", "Daily-Growth", ""])
def test_invalid_slug_is_refused_before_touching_the_filesystem(tmp_path: Path, slug: str) -> None:
    with pytest.raises(RunbookError, match="not a valid pipeline slug"):
        load_runbook(slug, tmp_path)


def test_available_runbooks_lists_slugs_only(tmp_path: Path) -> None:
    write(tmp_path, "b-two", investor_book("b-two"))
    write(tmp_path, "a-one", investor_book("a-one"))
    (tmp_path / "README.md").write_text("# notes\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert available_runbooks(tmp_path) == ["a-one", "b-two"]
    assert available_runbooks(tmp_path / "absent") == []


# --- lint ----------------------------------------------------------------------------------


def test_required_sections_cover_the_template() -> None:
    assert len(REQUIRED_INVESTOR_SECTIONS) == 14
    assert set(FAILURE_MODES) < set(REQUIRED_INVESTOR_SECTIONS)
    assert STALE_AFTER.days == 90


@pytest.mark.parametrize("title", REQUIRED_INVESTOR_SECTIONS)
def test_missing_required_section(tmp_path: Path, title: str) -> None:
    skip = (title, *CHILDREN.get(title, ()))
    write(tmp_path, "aggregate-growth", investor_book(skip=skip))
    found = errors(check(tmp_path))
    assert Finding(tmp_path / "aggregate-growth.md", title, "missing", "error") in found
    assert f"aggregate-growth.md: section '{title}': missing" in "\n".join(map(str, found))


def test_empty_required_section(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book(bodies={"Rollback": "   "}))
    assert check(tmp_path) == [Finding(tmp_path / "aggregate-growth.md", "Rollback", "empty", "error")]


def test_parent_section_may_hold_text_only_in_children(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book(bodies={"Description": "", "Failure modes": ""}))
    assert check(tmp_path) == []


def test_misplaced_required_section(tmp_path: Path) -> None:
    text = investor_book(skip=("Output",)) + "\n### Output\nTable.\n"
    write(tmp_path, "aggregate-growth", text)
    [finding] = check(tmp_path)
    assert finding.section == "Output"
    assert "under 'Description'" in finding.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("**Symptoms**\n- slow\n", "missing **Potential causes**"),
        ("**Potential causes**\n- quota\n", "missing **Symptoms**"),
        ("Something breaks.\n", "missing **Symptoms**"),
        (
            "**Symptoms**\nIt is slow.\n\n**Potential causes**\n- quota\n",
            "**Symptoms** has no '- ' bullet items",
        ),
    ],
)
def test_failure_mode_needs_symptoms_and_causes(tmp_path: Path, body: str, message: str) -> None:
    write(tmp_path, "aggregate-growth", investor_book(bodies={"Schema changes": body}))
    findings = check(tmp_path)
    assert Finding(tmp_path / "aggregate-growth.md", "Schema changes", message, "error") in findings


def test_labels_accept_colons_and_any_case() -> None:
    body = "**Symptoms:**\n- a\n- b\n  continued\n**potential causes**:\n- c\n"
    assert labelled_items(body) == {"symptoms": ["a", "b"], "potential causes": ["c"]}


def test_extra_failure_modes_are_checked_too(tmp_path: Path) -> None:
    text = investor_book().replace(
        "## Monitoring and alerts", "### Cost overrun\nSpend doubles.\n\n## Monitoring and alerts"
    )
    write(tmp_path, "aggregate-growth", text)
    messages = {(f.section, f.message) for f in check(tmp_path)}
    assert messages == {
        ("Cost overrun", "missing **Symptoms**"),
        ("Cost overrun", "missing **Potential causes**"),
    }


def test_experiment_runbooks_skip_investor_rules(tmp_path: Path) -> None:
    write(tmp_path, "daily-growth", front_matter("daily-growth") + "# T\n## Description\nShort.\n")
    assert check_runbooks([], ["daily-growth"], TODAY, tmp_path) == []
    assert errors(check_runbooks(["daily-growth"], ["daily-growth"], TODAY, tmp_path))


@pytest.mark.parametrize(("age", "stale"), [(0, False), (90, False), (91, True), (400, True)])
def test_stale_review_warning(tmp_path: Path, age: int, stale: bool) -> None:
    reviewed = TODAY - timedelta(days=age)
    write(tmp_path, "aggregate-growth", investor_book(reviewed=reviewed.isoformat()))
    found = check(tmp_path)
    assert errors(found) == []
    if stale:
        [warning] = warnings(found)
        assert warning.section is None
        assert f"{age} days" in warning.message and reviewed.isoformat() in warning.message
    else:
        assert found == []


def test_future_review_date_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book(reviewed="2026-12-02"))
    [finding] = check(tmp_path)
    assert finding.severity == "error"
    assert "2026-12-02 is in the future" in finding.message


def test_missing_runbook_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book())
    findings = check_runbooks(["aggregate-growth"], ["aggregate-growth", "daily-growth"], TODAY, tmp_path)
    [finding] = findings
    assert finding.severity == "error"
    assert finding.path == tmp_path / "daily-growth.md"
    assert "no run book file" in finding.message and "daily-growth.md" in str(finding)


def test_orphan_runbook_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book())
    write(tmp_path, "old-pipeline", front_matter("old-pipeline") + "# Old\n## Description\nGone.\n")
    [finding] = check(tmp_path)
    assert finding.severity == "warning"
    assert finding.path == tmp_path / "old-pipeline.md"
    assert "orphan" in finding.message


def test_malformed_orphan_is_still_reported(tmp_path: Path) -> None:
    write(tmp_path, "stray", "no front matter\n")
    findings = check_runbooks([], [], TODAY, tmp_path)
    assert [f.severity for f in findings] == ["warning", "error"]


def test_overlong_section_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "aggregate-growth", investor_book(bodies={"Rollback": "x" * (MAX_SECTION_CHARS + 1)}))
    [finding] = check(tmp_path)
    assert finding.severity == "error" and finding.section == "Rollback"
    assert str(MAX_SECTION_CHARS + 1) in finding.message


def test_investor_slugs_are_checked_even_if_missing_from_all_slugs(tmp_path: Path) -> None:
    findings = check_runbooks(["aggregate-growth"], [], TODAY, tmp_path)
    assert [f.message for f in findings] == ["no run book file for pipeline 'aggregate-growth'"]


def test_finding_str_with_and_without_section() -> None:
    path = Path("runbooks/aggregate-growth.md")
    assert (
        str(Finding(path, "Rollback", "missing", "error"))
        == "runbooks/aggregate-growth.md: section 'Rollback': missing"
    )
    assert str(Finding(path, None, "orphan", "warning")) == "runbooks/aggregate-growth.md: orphan"
