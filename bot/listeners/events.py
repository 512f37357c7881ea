"""Events API: mentions, answered in a thread."""

from typing import Any

from slack_bolt import App, BoltContext, Say
from slack_sdk import WebClient

from bot.listeners.respond import compute
from bot.parsing import parse_mention
from bot.services import services_of


def app_mention(event: dict[str, Any], say: Say, client: WebClient, context: BoltContext) -> None:
    request = parse_mention(event.get("text", ""))
    thread = event.get("thread_ts") or event["ts"]
    for message in compute(services_of(context), client, request, event.get("user", ""), event.get("channel")):
        say(thread_ts=thread, **message.payload())


def register(app: App) -> None:
    app.event("app_mention")(app_mention)
