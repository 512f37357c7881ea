"""Work that runs after the ack (Bolt's lazy listeners), such as a re-plan that may take
longer than Slack's three seconds: its own unit of work, and the same error path as
everything else, since Bolt would only log a lazy listener's exception."""

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from bot.failures import deliver, message_for
from bot.session import session_of, unit_of_work

Work = Callable[[Session, dict[str, Any], WebClient, Respond], None]


def deferred(engine: Engine, work: Work) -> Callable[..., None]:
    """A lazy listener running `work(session, body, client, respond)`."""

    def run(body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
        try:
            with unit_of_work(engine, context):
                work(session_of(context), body, client, respond)
        except Exception as error:
            deliver(message_for(error), body, client)

    run.__name__ = run.__qualname__ = f"deferred_{work.__name__}"  # Bolt tells lazy listeners apart by name
    return run
