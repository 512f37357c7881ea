"""`oncall doctor`: check the Slack workspace before the first post goes out, and the
e-mail lookup `oncall sync` uses for members written without a Slack id.

Slack's client is imported inside the functions, as in `cli.announce`: commands that
never talk to Slack do not pay for it.
"""

import typer

from catalog.sync import SlackIdLookup
from cli.common import app, start_runtime
from core.settings import Settings, require
from core.text import counted


@app.command()
def doctor() -> None:
    """Check the token, scopes, channels, members' Slack ids and user group; each problem with its fix.

    The teams checked are those the database holds (what the bot serves): after editing
    the team file, `oncall sync` first."""
    from bot.announcing import plain_client
    from bot.doctor import Severity, authenticate, check_workspace

    settings = Settings()
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    client = plain_client(settings, token)
    auth = authenticate(client)  # a refused token is one line and exit 2, like a missing one
    runtime = start_runtime(settings)
    with runtime.session() as session:
        findings = check_workspace(client, session, auth=auth)
    for finding in findings:
        typer.echo(finding.line())
    typer.echo(counted(len(findings), "problem") if findings else "All checks passed")
    if any(finding.severity == Severity.ERROR for finding in findings):
        raise typer.Exit(code=1)


def slack_lookup(settings: Settings) -> SlackIdLookup | None:
    """`oncall sync`'s lookup of Slack ids by e-mail, or None without SLACK_BOT_TOKEN (the
    members stay unresolved, with a warning each, and the sync goes on)."""
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        return None
    from bot.announcing import plain_client
    from bot.emails import email_lookup

    return email_lookup(plain_client(settings, settings.slack_bot_token.get_secret_value()))
