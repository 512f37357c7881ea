"""Events API: mentions, answered in a thread (once per `event_id`: see `bot.app`)."""

from typing import Any

from slack_bolt import App, BoltContext, Say
from slack_sdk import WebClient

from bot.answers import answer
from bot.asker import resolve_asker
from bot.parsing import parse_mention
from bot.services import Services
from bot.session import after_ack, session_of


def register(app: App, services: Services) -> None:
    def app_mention(event: dict[str, Any], say: Say, client: WebClient, context: BoltContext) -> None:
        session = session_of(context)
        asker = resolve_asker(session, services, client, event.get("user", ""), event.get("channel"))
        thread = event.get("thread_ts") or event.get("ts")
        messages = answer(session, parse_mention(event.get("text", "")), asker, services.runtime)

        def post() -> None:  # after the ack: a rate-limited post must not make Slack retry
            for message in messages:
                say(thread_ts=thread, **message.payload())

        after_ack(context, post)

    app.event("app_mention")(app_mention)
