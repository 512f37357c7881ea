"""`oncall doctor`: the bot must be a member of every team channel (handoffs, holiday
notices, the topic) and alert channel, or Slack answers `not_in_channel` when it posts.

team.yaml allows a channel as an id or as `#name`. A name is resolved with
`conversations.list` (the channels the bot can see: every public one, and the private
ones it is in); one it cannot find is reported as uncheckable, with the fix "use the
id". A team channel written as a name is reported even when found: `conversations.history`
(the outbox's duplicate check) and `conversations.setTopic` take only ids.
"""

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from bot.courier import FIXES
from bot.findings import Finding, Refused, Severity, ask, could_not
from storage.models import Pipeline, Team

LIST_PAGES = 50  # of 1000 channels each


def channel_findings(client: WebClient, session: Session, teams: list[Team]) -> tuple[list[Finding], bool]:
    """The findings, and whether any channel is private (which needs the `groups:` scopes)."""
    uses = channel_uses(session, teams)
    names: dict[str, str] | Refused | None = None
    findings: list[Finding] = []
    private = False
    for written, used_by in uses.items():
        subject = f"channel {written} ({'; '.join(used_by)})"
        posted = any(use.startswith("team ") for use in used_by)
        channel_id = written
        if written.startswith("#"):
            names = names if names is not None else _channel_names(client)
            found = names.get(written[1:]) if isinstance(names, dict) else None
            if found is None:
                why = names.code if isinstance(names, Refused) else "no channel of that name is visible to the bot"
                fix = (
                    f"use the channel id in team.yaml (channel details → Copy channel ID); /invite @oncall in {written}"
                )
                findings.append(Finding(subject, f"cannot check {written}: {why}", fix, Severity.WARNING))
                continue
            channel_id = found
            if posted:
                fix = f"write `channel: {channel_id}` in team.yaml, then `oncall sync`"
                findings.append(Finding(subject, "a name: the topic and the outbox's history check need the id", fix))
        finding, is_private = _membership(client, subject, channel_id, written, posted)
        findings += [finding] if finding else []
        private |= is_private
    return findings, private


def channel_uses(session: Session, teams: list[Team]) -> dict[str, list[str]]:
    """Each channel as team.yaml writes it -> what uses it ("team data-eng's channel",
    "alerts of unit-profit, aggregate-profit"), team channels first."""
    uses: dict[str, list[str]] = {team.channel: [f"team {team.id}'s channel"] for team in teams}
    alerts: dict[str, list[str]] = {}
    for pipeline in session.exec(select(Pipeline).where(col(Pipeline.active)).order_by(col(Pipeline.position))):
        alerts.setdefault(pipeline.alert_channel, []).append(pipeline.id)
    for channel, pipelines in alerts.items():
        uses.setdefault(channel, []).append(f"alerts of {', '.join(pipelines)}")
    return uses


def _membership(
    client: WebClient, subject: str, channel_id: str, written: str, posted: bool
) -> tuple[Finding | None, bool]:
    """A team channel the bot cannot post in is an error; an alert channel, a warning."""
    severity = Severity.ERROR if posted else Severity.WARNING
    private = channel_id.startswith("G")
    try:
        info = ask(client.conversations_info, channel=channel_id)["channel"]
    except Refused as refusal:
        if refusal.code not in ("not_in_channel", "channel_not_found"):
            return could_not(subject, "conversations.info", refusal), private
        fix = f"{_invite(written)}, or fix the id in team.yaml"
        return Finding(subject, f"the bot cannot see it ({refusal.code})", fix, severity), private
    private |= bool(info.get("is_private"))
    if info.get("is_archived"):
        return Finding(subject, "the channel is archived", FIXES["is_archived"], severity), private
    if not info.get("is_member", True):
        shown = f"#{info['name']}" if info.get("name") else written
        return Finding(subject, "the bot is not a member", _invite(shown), severity), private
    return None, private


def _invite(channel: str) -> str:
    where = channel if channel.startswith("#") else f"the channel whose id is {channel}"
    return f"invite the bot: /invite @oncall in {where}"


def _channel_names(client: WebClient) -> dict[str, str] | Refused:
    """name -> id of every channel the bot can see, or why Slack would not list them."""
    names: dict[str, str] = {}
    cursor = None
    for _ in range(LIST_PAGES):
        try:
            page = ask(
                client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
        except Refused as refusal:
            return refusal
        names.update({str(channel.get("name")): str(channel.get("id")) for channel in page.get("channels") or []})
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return names
