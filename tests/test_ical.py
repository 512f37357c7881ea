"""`oncall export-ical`: the .ics file is parsed back with icalendar and checked against the
database, on the example team with a year of shifts and time pinned at NOW."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import Session, select

from catalog.queries import resolve_team
from core.errors import OncallError
from schedules import absences
from schedules.ical import export_calendar, group_holidays, weeks_span
from schedules.queries import OnCall, shifts_between
from storage.db import session_scope
from storage.enums import ShiftOrigin
from storage.models import Member, Shift, Team, TimeOff
from tests.conftest import NOW
from tests.test_cli import ok, oncall
from usecases.runtime import Runtime

NEW_YORK = ZoneInfo("America/New_York")
FIRST = date(2026, 12, 1)  # NOW's local day: the default `--from`


def export(runtime: Runtime, first: date = FIRST, weeks: int = 52, member: str | None = None) -> bytes:
    with runtime.session() as session:
        team = resolve_team(session)
        start, end = weeks_span(first, weeks, team.timezone)
        return export_calendar(session, team, start, end, NOW, member)


def events(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def shift_events(data: bytes) -> list[Any]:
    return [event for event in events(data) if str(event["SUMMARY"]).startswith("On call")]


def by_uid(data: bytes) -> dict[str, Any]:
    return {str(event["UID"]): event for event in events(data)}


def stored_shifts(runtime: Runtime, first: date = FIRST, weeks: int = 52) -> list[OnCall]:
    """The shifts the export should show, read through the ordinary query module."""
    with runtime.session() as session:
        team = resolve_team(session)
        start, end = weeks_span(first, weeks, team.timezone)
        return [shift for shift in shifts_between(session, team, start, weeks + 1) if shift.start < end]


def test_calendar_has_the_required_properties(runtime: Runtime) -> None:
    data = export(runtime)
    calendar = Calendar.from_ical(data)

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Data Engineering on call"
    assert str(calendar["X-WR-TIMEZONE"]) == "America/New_York"
    found = events(data)
    assert found
    for event in found:
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(event)
        assert event["DTSTAMP"].dt == NOW  # the injected clock, not the wall clock
        assert str(event["TRANSP"]) == "TRANSPARENT"
    uids = [str(event["UID"]) for event in found]
    assert len(uids) == len(set(uids))
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")


def test_one_event_per_shift_role_in_utc(runtime: Runtime) -> None:
    data = export(runtime)
    stored = stored_shifts(runtime)
    found = by_uid(data)

    assert len(stored) >= 52
    assert len(shift_events(data)) == 2 * len(stored)
    for shift in stored:
        stamp = f"{shift.start:%Y%m%dT%H%M%SZ}"
        primary = found[f"data-eng-{stamp}-primary@oncall"]
        secondary = found[f"data-eng-{stamp}-secondary@oncall"]
        assert str(primary["SUMMARY"]) == f"On call (primary): {shift.primary.name}"
        assert str(secondary["SUMMARY"]) == f"On call (secondary): {shift.secondary.name}"
        assert f"{shift.secondary.name} is secondary" in str(primary["DESCRIPTION"])
        assert f"{shift.primary.name} is primary" in str(secondary["DESCRIPTION"])
        for event in (primary, secondary):
            assert event["DTSTART"].dt == shift.start and event["DTEND"].dt == shift.end
            assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert b"DTSTART:20270104T150000Z" in data  # written as UTC, no VTIMEZONE needed


def test_last_modified_comes_from_the_shift_row(runtime: Runtime) -> None:
    with runtime.session() as session:
        row = session.exec(select(Shift).where(Shift.start == datetime(2027, 1, 4, 15, tzinfo=UTC))).one()
    event = by_uid(export(runtime))["data-eng-20270104T150000Z-primary@oncall"]

    assert event["LAST-MODIFIED"].dt == row.updated_at.replace(microsecond=0)


def test_exporting_twice_gives_the_same_file(runtime: Runtime) -> None:
    first, second = export(runtime), export(runtime)

    assert by_uid(first).keys() == by_uid(second).keys()
    assert first == second


def test_a_swap_updates_the_event_instead_of_duplicating_it(runtime: Runtime) -> None:
    start = datetime(2027, 1, 4, 15, tzinfo=UTC)
    uid = "data-eng-20270104T150000Z-primary@oncall"
    before = export(runtime)
    with session_scope(runtime.engine) as session:
        shift = session.exec(select(Shift).where(Shift.start == start)).one()
        taker = next(m for m in ("alice", "bob", "charlie", "dana") if m not in (shift.primary_id, shift.secondary_id))
        old_primary = _name(session, shift.primary_id)
        shift.primary_id, shift.origin = taker, ShiftOrigin.SWAP  # what accepting a swap request writes
        shift.updated_at = shift.updated_at + timedelta(minutes=1)
    after = export(runtime)

    assert by_uid(before).keys() == by_uid(after).keys()
    old, new = by_uid(before)[uid], by_uid(after)[uid]
    assert str(old["SUMMARY"]) == f"On call (primary): {old_primary}"
    assert str(new["SUMMARY"]) == f"On call (primary): {taker.capitalize()}"
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert "Set by swap." in str(new["DESCRIPTION"])
    secondary = "data-eng-20270104T150000Z-secondary@oncall"
    assert taker.capitalize() in str(by_uid(after)[secondary]["DESCRIPTION"])


def test_a_regeneration_raises_the_sequence_of_the_events_it_changed(runtime: Runtime) -> None:
    before = by_uid(export(runtime))
    with session_scope(runtime.engine) as session:
        result = absences.record_time_off(
            session, "bob", date(2027, 1, 4), date(2027, 1, 17), "ski", NOW + timedelta(hours=1)
        )
    after = by_uid(export(runtime))
    changed = {change.start for change in result.changes}
    assert changed
    for uid, event in after.items():
        if not uid.endswith(("-primary@oncall", "-secondary@oncall")):
            continue
        start = event["DTSTART"].dt
        raised = int(event["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
        assert raised == (start in changed), uid


def test_member_export_has_only_their_shifts_holidays_and_time_off(runtime: Runtime) -> None:
    data = export(runtime, date(2027, 1, 1), 53, member="alice")
    calendar = Calendar.from_ical(data)
    stored = stored_shifts(runtime, date(2027, 1, 1), 53)
    hers = [(s, "primary") for s in stored if s.primary.id == "alice"]
    hers += [(s, "secondary") for s in stored if s.secondary.id == "alice"]
    found = by_uid(data)

    assert str(calendar["X-WR-CALNAME"]) == "Alice's on-call shifts"
    assert len(shift_events(data)) == len(hers) > 0
    for shift, role in hers:
        event = found[f"data-eng-{shift.start:%Y%m%dT%H%M%SZ}-{role}@oncall"]
        assert str(event["SUMMARY"]) == f"On call: {role}, Data Engineering"
    holidays = [str(e["SUMMARY"]) for e in events(data) if str(e["SUMMARY"]).startswith("Holiday")]
    assert "Holiday (US): Thanksgiving Day — Alice" in holidays
    assert all(summary.endswith("— Alice") for summary in holidays)
    away = [str(e["SUMMARY"]) for e in events(data) if str(e["SUMMARY"]).startswith("Away")]
    assert away == ["Away: Alice (Summer holiday)"]


def test_unknown_member_or_another_teams_member_is_refused(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        session.add(Team(id="ops", name="Ops", timezone="UTC", channel="C0OPS", rotation_start=date(2026, 1, 5)))
        session.flush()
        session.add(
            Member(id="olga", team_id="ops", name="Olga", slack_id="U0", email="o@x", timezone="UTC", country="GB")
        )
    with runtime.session() as session:
        team = resolve_team(session, "data-eng")
        start, end = weeks_span(FIRST, 1, team.timezone)
        for member in ("zed", "olga"):
            with pytest.raises(OncallError, match=f"no member '{member}' in team data-eng"):
                export_calendar(session, team, start, end, NOW, member)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # 14 March 2027: clocks go forward in New York, so that week is an hour short.
        (datetime(2027, 3, 8, 15, tzinfo=UTC), datetime(2027, 3, 15, 14, tzinfo=UTC), 167),
        # 7 November 2027: clocks go back, so that week is an hour long.
        (datetime(2027, 11, 1, 14, tzinfo=UTC), datetime(2027, 11, 8, 15, tzinfo=UTC), 169),
    ],
)
def test_handoff_stays_at_local_10_across_dst(runtime: Runtime, start: datetime, end: datetime, hours: int) -> None:
    event = by_uid(export(runtime))[f"data-eng-{start:%Y%m%dT%H%M%SZ}-primary@oncall"]
    dtstart, dtend = event["DTSTART"].dt, event["DTEND"].dt

    assert (dtstart, dtend) == (start, end)
    assert dtend - dtstart == timedelta(hours=hours)
    assert dtstart.astimezone(NEW_YORK).time() == dtend.astimezone(NEW_YORK).time() == time(10, 0)


def test_public_holidays_are_all_day_events(runtime: Runtime) -> None:
    data = export(runtime, date(2027, 1, 1), 53)
    found = by_uid(data)

    boxing = found["data-eng-holiday-GB-ENG-20271226@oncall"]
    assert str(boxing["SUMMARY"]) == "Holiday (GB): Boxing Day — Bob"
    assert (boxing["DTSTART"].dt, boxing["DTEND"].dt) == (date(2027, 12, 26), date(2027, 12, 27))
    assert not isinstance(boxing["DTSTART"].dt, datetime)
    assert b"DTSTART;VALUE=DATE:20271226\r\n" in data
    observed = found["data-eng-holiday-GB-ENG-20271228@oncall"]
    assert str(observed["SUMMARY"]) == "Holiday (GB): Boxing Day (observed) — Bob"
    thanksgiving = found["data-eng-holiday-US-NY-20271125@oncall"]
    assert str(thanksgiving["SUMMARY"]) == "Holiday (US): Thanksgiving Day — Alice"
    assert thanksgiving["DTSTART"].dt == date(2027, 11, 25)
    assert "data-eng-holiday-US-CA-20271125@oncall" in found  # Charlie's is his own calendar's
    assert "data-eng-holiday-GB-ENG-20271125@oncall" not in found


def test_members_sharing_a_holiday_calendar_share_one_event() -> None:
    def member(id_: str) -> Member:
        return Member(id=id_, team_id="t", name=id_.capitalize(), slack_id="U", email="e", timezone="UTC", country="GB")

    entries = group_holidays([member("bob"), member("bea")], date(2027, 12, 24), date(2027, 12, 26))

    assert [(e.day, e.name, e.members) for e in entries] == [
        (date(2027, 12, 25), "Christmas Day", ("Bob", "Bea")),
        (date(2027, 12, 26), "Boxing Day", ("Bob", "Bea")),
    ]


def test_time_off_from_the_team_file_appears(runtime: Runtime) -> None:
    with runtime.session() as session:
        rows = {row.reason: row for row in session.exec(select(TimeOff))}
    found = by_uid(export(runtime, date(2027, 1, 1), 53))

    summer = found[f"timeoff-{rows['Summer holiday'].id}@oncall"]
    assert str(summer["SUMMARY"]) == "Away: Alice (Summer holiday)"
    assert (summer["DTSTART"].dt, summer["DTEND"].dt) == (date(2027, 7, 12), date(2027, 7, 24))
    family = found[f"timeoff-{rows['Family trip'].id}@oncall"]
    assert str(family["SUMMARY"]) == "Away: Bob (Family trip)"


def _name(session: Session, member_id: str) -> str:
    member = session.get(Member, member_id)
    assert member is not None
    return member.name


def test_cli_writes_a_file_that_parses_back(workdir: Path) -> None:
    out = ok(workdir, "export-ical", "--out", "x.ics")

    found = events((workdir / "x.ics").read_bytes())
    assert out.strip() == f"Wrote {len(found)} events to x.ics"
    assert len([e for e in found if str(e["SUMMARY"]).startswith("On call")]) >= 2 * 52
    stdout = oncall(workdir, "export-ical", "--member", "bob", "--weeks", "4")
    assert stdout.returncode == 0, stdout.stderr
    assert str(Calendar.from_ical(stdout.stdout)["X-WR-CALNAME"]) == "Bob's on-call shifts"


def test_cli_refuses_an_unknown_member_in_one_line(workdir: Path) -> None:
    done = oncall(workdir, "export-ical", "--member", "zed")

    assert done.returncode == 1
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: no member 'zed' in team data-eng")
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
