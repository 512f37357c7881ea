"""`oncall`: the terminal front end. Each command parses, calls the core, prints."""

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from catalog import owners as ownership
from catalog.loader import load_catalog
from catalog.queries import resolve_team
from cli import announce, audit, doctor, render, time_off
from cli.common import FromOption, JsonOption, TeamOption, app, current_clock, day, emit, names, start_runtime
from core.errors import OncallError
from core.settings import MissingSetting, Settings
from core.text import counted
from core.timefmt import local_midnight
from runbooks.document import available_runbooks
from runbooks.lint import check_runbooks
from runbooks.lookup import owners_view, runbook_view
from schedules import planner
from schedules.annotations import shift_notes
from schedules.queries import next_on_call, on_call_at, shifts_between
from schedules.report import fairness_table
from storage.enums import FrontEnd
from storage.models import Team
from usecases import planning
from usecases.audit import Actor
from usecases.runtime import Runtime


@app.command()
def now(team: TeamOption = None, as_json: JsonOption = False) -> None:
    """Who is on call right now."""
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        shift = on_call_at(session, the_team, runtime.clock())
    if shift is None:
        raise OncallError(f"nobody is on call for {the_team.id} right now: run `oncall sync`")
    emit(render.now_json(shift)) if as_json else typer.echo(render.now_text(shift))


@app.command(name="next")
def next_(team: TeamOption = None, as_json: JsonOption = False) -> None:
    """Who takes over at the next handoff."""
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        shift = next_on_call(session, the_team, runtime.clock())
    if shift is None:
        raise OncallError(f"no shift is scheduled after the current one for {the_team.id}")
    emit(render.now_json(shift)) if as_json else typer.echo(render.now_text(shift, "Next on call"))


@app.command()
def schedule(
    team: TeamOption = None,
    start: FromOption = None,
    weeks: Annotated[int, typer.Option(min=1, max=520, help="How many weeks to show.")] = 4,
    as_json: JsonOption = False,
) -> None:
    """The coming shifts."""
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        begin = runtime.clock() if start is None else local_midnight(start.date(), the_team.timezone)
        shifts = shifts_between(session, the_team, begin, weeks)
        notes = shift_notes(session, the_team, shifts)
    if as_json:
        rows = [render.shift_json(shift) | {"notes": list(note)} for shift, note in zip(shifts, notes, strict=True)]
        emit({"team": the_team.id, "shifts": rows})
    else:
        typer.echo(render.schedule_text(shifts, notes))
        short = render.schedule_end_note(shifts, begin + timedelta(weeks=weeks), the_team.timezone)
        if short:
            typer.echo(short)


@app.command(name="export-ical")
def export_ical(
    team: TeamOption = None,
    member: Annotated[str | None, typer.Option("--member", help="Only this member's shifts and days off.")] = None,
    start: FromOption = None,
    weeks: Annotated[int, typer.Option(min=1, max=520, help="How many weeks to export.")] = 52,
    out: Annotated[Path | None, typer.Option("--out", help="Write the .ics file here (default: stdout).")] = None,
) -> None:
    """An iCalendar file of shifts, public holidays and time off, for Google Calendar or Outlook."""
    from schedules import ical  # icalendar costs ~45 ms to import: only this command pays it

    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        first, last = ical.weeks_span(day(start, the_team.timezone, runtime), weeks, the_team.timezone)
        calendar = ical.build_calendar(ical.read_content(session, the_team, first, last, member), runtime.clock())
    if out is None:
        typer.echo(calendar.to_ical(), nl=False)
        return
    try:
        out.write_bytes(calendar.to_ical())
    except OSError as error:
        raise OncallError(f"cannot write {out}: {error.strerror}") from error
    typer.echo(f"Wrote {len(calendar.walk('VEVENT'))} events to {out}")


@app.command()
def generate(
    team: TeamOption = None,
    start: FromOption = None,
    weeks: Annotated[
        int | None, typer.Option(min=1, max=520, help="How many weeks to plan (default: a year, or all stored).")
    ] = None,
) -> None:
    """Write the fair schedule (past, frozen and swapped shifts are kept) and show what changed."""
    runtime = start_runtime()
    done = planning.generate(runtime, Actor.terminal(), team, start.date() if start else None, weeks)
    with runtime.session() as session:
        people = names(session, done.team.id)
    typer.echo(render.changes_text(done.changes, done.team.timezone, people))
    verdict = "every metric at its limit" if done.report.at_limit() else "see `oncall fairness`"
    typer.echo(f"Fairness over {counted(done.horizon.count, 'week')}: {verdict}.")


@app.command()
def fairness(
    team: TeamOption = None,
    start: FromOption = None,
    weeks: Annotated[
        int | None, typer.Option(min=1, max=520, help="How many weeks to measure (default: all stored ahead).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """How evenly the schedule shares the load, next to the best these inputs allow."""
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        horizon = _measured(session, the_team, start, weeks, runtime)
        report = planner.fairness(session, horizon, runtime.clock())
    if as_json:
        emit(render.fairness_json(report, horizon))
    else:
        typer.echo(f"{render.fairness_heading(horizon)}\n\n{fairness_table(report)}")


holidays_app = typer.Typer(help="The separate rotation for major holidays.", no_args_is_help=True)
app.add_typer(holidays_app, name="holidays")


@holidays_app.command("plan")
def holidays_plan(
    year: Annotated[int, typer.Argument(min=2000, max=2100, help="Calendar year, e.g. 2027.")],
    team: TeamOption = None,
    replan: Annotated[bool, typer.Option("--replan", help="Plan again (frozen holidays keep their member).")] = False,
) -> None:
    """Assign the year's major holidays (rotating year over year), then fit the schedule to them."""
    runtime = start_runtime()
    the_team, plan, changes = planning.plan_holidays(runtime, Actor.terminal(), team, year, replan)
    with runtime.session() as session:
        people = names(session, the_team.id)
    typer.echo(render.holiday_plan_text(plan, people))
    if plan.created:
        typer.echo(render.changes_text(changes, the_team.timezone, people))


def _measured(
    session: Session, team: Team, start: datetime | None, weeks: int | None, runtime: Runtime
) -> planner.Horizon:
    """The period asked for, else `planner.fairness_horizon`."""
    if start is None and weeks is None:
        return planner.fairness_horizon(session, team, runtime.clock())
    return planner.horizon_from(team, day(start, team.timezone, runtime), weeks or 52)


@app.command()
def who(pipeline: Annotated[list[str], typer.Argument(help="Pipeline id or words from its name.")]) -> None:
    """Who owns a pipeline, and who is on call for its team."""
    runtime = start_runtime()
    with runtime.session() as session:
        view = owners_view(session, " ".join(pipeline), runtime.clock())
    typer.echo(render.owners_text(view.info, view.on_call))


@app.command()
def runbook(
    name: Annotated[list[str] | None, typer.Argument(help="Pipeline id or words from its name.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Lint every run book; non-zero on errors.")] = False,
) -> None:
    """Show a pipeline's run book (or list them, or --check them all)."""
    if check:
        _check_runbooks()
        return
    runtime = start_runtime()
    with runtime.session() as session:
        if not name:
            typer.echo("\n".join(available_runbooks()))
            return
        view = runbook_view(session, " ".join(name), runtime.clock())
    typer.echo(render.owners_text(view.info, view.on_call))
    typer.echo("")
    typer.echo(view.runbook.markdown())


def _check_runbooks() -> None:
    settings = Settings()
    catalog = load_catalog(settings.oncall_team_file, runbooks=available_runbooks())
    pipelines = [pipeline for team in catalog.teams for pipeline in team.pipelines]
    findings = check_runbooks(
        investor_slugs=[p.id for p in pipelines if p.audience == "investors"],
        all_slugs=[p.id for p in pipelines],
        today=current_clock()().date(),
    )
    for finding in findings:
        typer.echo(f"{finding.severity}: {finding}", err=True)
    errors = sum(finding.severity == "error" for finding in findings)
    if errors:
        raise typer.Exit(code=1)
    typer.echo(f"run books OK ({len(pipelines)} pipelines, {len(findings)} warnings)")


@app.command()
def sync(
    file: Annotated[Path | None, typer.Argument(help="Team file (default: $ONCALL_TEAM_FILE or team.yaml).")] = None,
) -> None:
    """Load the team file into the database (safe to repeat)."""
    settings = Settings() if file is None else Settings(oncall_team_file=file)
    runtime = start_runtime(settings)
    actor = Actor(FrontEnd.TEAM_FILE, str(settings.oncall_team_file))
    report = planning.sync(runtime, actor, doctor.slack_lookup(settings))  # ids left out of the file, by e-mail
    typer.echo("\n".join(report.changes) if report.changed else "Already up to date: nothing changed.")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)


owners_app = typer.Typer(help="The quarterly ownership rotation: who owns each pipeline.", no_args_is_help=True)
app.add_typer(owners_app, name="owners")

QuarterOption = Annotated[
    str | None, typer.Option("--quarter", help="Quarter, e.g. 2027Q2 (default: the next one, in team time).")
]


@owners_app.command("propose")
def owners_propose(quarter: QuarterOption = None, team: TeamOption = None) -> None:
    """Propose the quarter's primary and secondary for every pipeline, with loads (writes nothing)."""
    chosen = ownership.Quarter.parse(quarter) if quarter is not None else None  # bad input fails before any I/O
    runtime = start_runtime()
    with runtime.session() as session:
        the_team = resolve_team(session, team)
        plan = ownership.propose(session, the_team, chosen or ownership.next_quarter(the_team, runtime.clock()))
        people = names(session, the_team.id)
    typer.echo(render.owners_plan_text(plan, people))


@owners_app.command("apply")
def owners_apply(quarter: QuarterOption = None, team: TeamOption = None) -> None:
    """Write the proposal, in force from the quarter's first day; earlier owners stay as history."""
    chosen = ownership.Quarter.parse(quarter) if quarter is not None else None  # bad input fails before any I/O
    runtime = start_runtime()
    the_team, result = planning.apply_owners(runtime, Actor.terminal(), team, chosen)
    with runtime.session() as session:
        people = names(session, the_team.id)
    typer.echo(render.owners_applied_text(result, people))


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="HTTP port (default: $PORT or 3000).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default: $HOST or 0.0.0.0; 127.0.0.1 behind a proxy).")
    ] = None,
) -> None:
    """Run the Slack bot: Socket Mode if SLACK_APP_TOKEN is set, else HTTP."""
    from bot.server import serve as run_server

    run_server(Settings(), port, host)


COMMAND_MODULES = (announce, audit, doctor, time_off)  # each registers its commands on `app` when imported


def main() -> None:
    """Console entry point: expected failures become one line on stderr, not a traceback."""
    try:
        app()  # standalone: Typer itself answers usage errors with exit code 2
    except MissingSetting as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except OncallError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
