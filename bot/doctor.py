"""What a real workspace gets wrong, found before the first post goes out (`oncall doctor`,
and once at the start of `oncall serve`).

Each check asks Slack what the feature itself will ask, with the same token: the token
(`auth.test`), the scopes it was granted (the `X-OAuth-Scopes` header of that answer), the
bot's membership of every team and alert channel (`bot.channel_checks`), every active
member's Slack id, and the on-call user group. Every refusal becomes a `Finding` naming
the subject, the problem and the fix, never a traceback. A check that a missing scope
would only fail again is skipped: the scope's own finding says it. Whether workspace
admins let apps write user groups shows only on writing; the doctor writes nothing, so it
checks what reading can tell.
"""

import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlmodel import Session, col, select

from bot.announcing import plain_client
from bot.channel_checks import channel_findings, channel_uses
from bot.courier import header
from bot.emails import email_lookup
from bot.findings import REINSTALL, RETRY, Finding, Refused, Severity, ask, could_not, fix_for
from bot.tokens import rejected
from catalog.schema import is_placeholder
from catalog.sync import LookupFailed, SlackIdLookup
from core.errors import OncallError
from storage.models import Member, Team
from usecases.runtime import Runtime

__all__ = ["REQUIRED_SCOPES", "Finding", "Severity", "authenticate", "check_at_start", "check_workspace"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    """Why a scope is needed, how badly, and when: `when` "group" only if a team has an
    `oncall_group`, "private" only if a checked channel is private; `broader` grants it too."""

    feature: str
    severity: Severity = Severity.ERROR
    when: str = "always"
    broader: str | None = None


_HISTORY = "the outbox's look for an earlier copy before a retried post (without it a retry may post twice)"
# conversations.setTopic takes channels:write.topic for a bot token in a public channel
# (groups:write.topic in a private one), or the broader channels:manage / groups:write.
REQUIRED_SCOPES: dict[str, Need] = {
    "chat:write": Need("posting answers, handoffs and notices"),
    "commands": Need("/oncall and /runbook"),
    "app_mentions:read": Need("answering @oncall mentions"),
    "users:read": Need("users.info: times in the asker's timezone, and checking members' ids"),
    "users:read.email": Need("users.lookupByEmail: members' ids from their email on `oncall sync`", Severity.WARNING),
    "im:write": Need("conversations.open: the handoff and reminder DMs"),
    "channels:history": Need(f"{_HISTORY}, in public channels", Severity.WARNING),
    "groups:history": Need(f"{_HISTORY}, in private channels", Severity.WARNING, "private"),
    "im:history": Need(f"{_HISTORY}, in DMs", Severity.WARNING),
    "channels:read": Need("conversations.info: checking the bot is in each channel", Severity.WARNING),
    "groups:read": Need("conversations.info on private channels", Severity.WARNING, "private"),
    "usergroups:read": Need("usergroups.list: finding the on-call user group", when="group"),
    "usergroups:write": Need("usergroups.users.update: keeping the on-call user group current", when="group"),
    "channels:write.topic": Need("conversations.setTopic: who is on call, in the topic", broader="channels:manage"),
    "groups:write.topic": Need("conversations.setTopic in a private channel", when="private", broader="groups:write"),
}


class Unreachable(OncallError):
    """Slack could not be asked at all (network, SLACK_API_URL, Slack down)."""


def authenticate(client: WebClient) -> SlackResponse:
    """`auth.test`; a token Slack refuses raises `RejectedToken`, like a missing one (exit 2)."""
    try:
        return client.auth_test()
    except SlackApiError as error:
        if error.response.status_code >= 500 or error.response.get("error") == "ratelimited":
            raise Unreachable(f"Slack could not answer auth.test ({error.response.get('error')}): {RETRY}") from None
        raise rejected("SLACK_BOT_TOKEN", "auth.test", error) from None
    except OSError as error:
        raise Unreachable(f"cannot reach Slack at {client.base_url} ({error}): {RETRY}") from None


def check_workspace(client: WebClient, session: Session, *, auth: SlackResponse | None = None) -> list[Finding]:
    """Every problem found, in the order of the checks; `auth` is an `auth.test` answer
    already in hand (the terminal asks first, so that a refused token exits 2)."""
    try:
        auth = auth if auth is not None else ask(client.auth_test)
    except Refused as refusal:
        return [_token_finding(refusal)]
    granted = _granted(auth)
    teams = list(session.exec(select(Team).order_by(col(Team.id))))
    channels: list[Finding] = []
    if granted is not None and "channels:read" not in granted:
        private = any(channel.startswith("G") for channel in channel_uses(session, teams))
    else:
        channels, private = channel_findings(client, session, teams)
    findings = _scope_findings(granted, any(team.oncall_group for team in teams), private)
    return findings + channels + _member_findings(client, session, granted) + _group_findings(client, teams, granted)


def check_at_start(runtime: Runtime, token: str) -> threading.Thread:
    """`oncall serve`: the same checks in the background, each problem logged once as a
    warning. Serving never waits for them, and a failure of the checks only logs."""

    def run() -> None:
        try:
            with runtime.session() as session:
                findings = check_workspace(plain_client(runtime.settings, token), session)
        except Exception:
            log.exception("the workspace checks failed (serving anyway)")
            return
        for finding in dict.fromkeys(findings):
            log.warning("%s", finding.line())

    thread = threading.Thread(target=run, name="doctor", daemon=True)
    thread.start()
    return thread


def _token_finding(refusal: Refused) -> Finding:
    if refusal.code.startswith("connection error") or refusal.code in ("ratelimited", "internal_error"):
        return Finding("Slack", f"cannot check the token (auth.test: {refusal.code})", RETRY)
    fix = "copy the app's Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN (README: 'Create the Slack app')"
    return Finding("SLACK_BOT_TOKEN", f"Slack refuses the token (auth.test: {refusal.code})", fix)


def _granted(auth: SlackResponse) -> set[str] | None:
    """The scopes in the `X-OAuth-Scopes` header (any case), or None when it is absent."""
    text = header(auth.headers, "X-OAuth-Scopes")
    return None if text is None else {scope.strip() for scope in text.split(",") if scope.strip()}


def _scope_findings(granted: set[str] | None, groups: bool, private: bool) -> list[Finding]:
    if granted is None:
        return [Finding("scopes", "Slack did not say which scopes the token has", RETRY, Severity.WARNING)]
    wanted = {"always": True, "group": groups, "private": private}
    return [
        Finding(f"scope {scope}", f"not granted; needed for {need.feature}", REINSTALL, need.severity)
        for scope, need in REQUIRED_SCOPES.items()
        if wanted[need.when] and scope not in granted and need.broader not in granted
    ]


def _member_findings(client: WebClient, session: Session, granted: set[str] | None) -> list[Finding]:
    """Every active member's Slack id must be a live user of this workspace."""
    findings: list[Finding] = []
    lookup = email_lookup(client)
    check_ids = granted is None or "users:read" in granted
    for member in session.exec(
        select(Member).where(col(Member.active)).order_by(col(Member.team_id), col(Member.position))
    ):
        subject = f"member {member.id} ({member.name}, team {member.team_id})"
        where = f"`slack_id` of member {member.id} in team.yaml"
        if is_placeholder(member.slack_id):
            findings.append(_placeholder_finding(lookup, member, subject, where))
            continue
        if not check_ids:
            continue
        try:
            user = ask(client.users_info, user=member.slack_id)["user"]
        except Refused as refusal:
            if refusal.code != "user_not_found":
                findings.append(could_not("members", "users.info", refusal))
                check_ids = False  # the same answer for every member
                continue
            fix = f"fix {where} (profile → ⋮ → Copy member ID), then `oncall sync`"
            findings.append(Finding(subject, f"{member.slack_id} is no user of this workspace", fix))
            continue
        if user.get("deleted"):
            fix = "update team.yaml (their new id, or remove them), then `oncall sync`"
            findings.append(Finding(subject, f"the Slack account {member.slack_id} is deactivated", fix))
    return findings


def _placeholder_finding(lookup: SlackIdLookup, member: Member, subject: str, where: str) -> Finding:
    """A member stored without an id: say whom their e-mail finds, or why nobody."""
    problem = f"no Slack id: {where} is missing or a placeholder"
    try:
        found = lookup(member.email)
        why = f"no active Slack user has the e-mail {member.email}"
    except LookupFailed as error:
        found, why = None, f"{member.email} cannot be looked up: {error}"
    if found is not None:
        return Finding(subject, f"{problem}; {member.email} is {found}", "run `oncall sync` with SLACK_BOT_TOKEN set")
    fix = "put the e-mail they use in Slack in `email`, or their member id (profile → ⋮ → Copy member ID) in `slack_id`"
    return Finding(subject, f"{problem}, and {why}", f"{fix}, then `oncall sync`")


def _group_findings(client: WebClient, teams: list[Team], granted: set[str] | None) -> list[Finding]:
    """A team's `oncall_group` needs user groups the app may read (plan, admins, scope)."""
    with_group = [(team, team.oncall_group) for team in teams if team.oncall_group]
    if not with_group or (granted is not None and "usergroups:read" not in granted):
        return []
    try:
        listed = ask(client.usergroups_list, include_disabled=True).get("usergroups") or []
    except Refused as refusal:
        problem = f"cannot be managed ({refusal.code})"
        return [
            Finding(f"user group {group} (team {team.id})", problem, fix_for(refusal)) for team, group in with_group
        ]
    ids = {str(group.get("id")) for group in listed}
    fix = "fix `oncall_group` in team.yaml (a handle like data-oncall is created when missing)"
    return [
        Finding(f"user group {group} (team {team.id})", "no user group has this id", fix)
        for team, group in with_group
        if group.startswith("S") and group.isupper() and group not in ids
    ]
