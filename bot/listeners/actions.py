"""Button clicks. Every listener acks first, then works; who clicked comes from the
signed body, never from a button's value; a button that no longer applies, or one we
never drew, gets "this button is out of date" and changes nothing."""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.answers import answer, cancel_away
from bot.asker import Asker, resolve_asker
from bot.deferred import deferred
from bot.failures import deliver
from bot.ids import ActionId
from bot.listeners.respond import respond_all
from bot.parsing import AwayList, ShowRunbook
from bot.services import Services
from bot.session import after_ack, session_of
from bot.views.announcements import swap_explanation
from bot.views.message import plain
from storage.models import Pipeline

OUT_OF_DATE = plain("This button is out of date: nothing was changed. Ask again for a fresh answer.")
_BOOKING_ID = re.compile(r"[1-9][0-9]{0,9}")  # ASCII digits only: `int("٤")` is 4
_PIPELINE_ID = re.compile(r"[a-z][a-z0-9-]{0,63}")  # the team file's rule for ids
MAX_BOOKING_ID = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def register(app: App, services: Services) -> None:
    runtime = services.runtime

    def asker_of(session: Session, body: dict[str, Any], client: WebClient) -> Asker:
        channel = body.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        return resolve_asker(session, services, client, str(body["user"]["id"]), channel_id)

    def open_runbook(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
    ) -> None:
        """A pipeline choice button: that run book in place of the choices."""
        ack()
        session = session_of(context)
        value = str(action.get("value", ""))
        pipeline = session.get(Pipeline, value) if _PIPELINE_ID.fullmatch(value) else None
        if pipeline is None or not pipeline.active:
            after_ack(context, lambda: deliver(OUT_OF_DATE, body, client))
            return
        first, *rest = answer(session, ShowRunbook(pipeline.id), asker_of(session, body, client), runtime)

        def show() -> None:
            respond(replace_original=True, **first.payload())
            respond_all(respond, rest)

        after_ack(context, show)

    def cancel_after_ack(session: Session, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Cancel the clicker's own booking, then redraw their list without it."""
        value = str(body["actions"][0].get("value", ""))
        if not _BOOKING_ID.fullmatch(value) or int(value) > MAX_BOOKING_ID:
            deliver(OUT_OF_DATE, body, client)
            return
        asker = asker_of(session, body, client)
        confirmation = cancel_away(session, int(value), asker, runtime)
        [remaining] = answer(session, AwayList(), asker, runtime)  # the list, as `/oncall away list` draws it
        respond(replace_original=True, **remaining.payload())
        respond_all(respond, confirmation)

    def request_swap(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """A holiday swap reminder's button: until swaps can be requested by button, how
        to get the shift covered (the button's value is not trusted: nothing is changed)."""
        ack()
        session = session_of(context)
        channel = asker_of(session, body, client).team.channel
        after_ack(context, lambda: deliver(swap_explanation(channel), body, client))

    def out_of_date(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        after_ack(context, lambda: deliver(OUT_OF_DATE, body, client))

    app.action(re.compile(ActionId.OPEN_RUNBOOK.pattern()))(open_runbook)
    app.action(re.compile(ActionId.CANCEL_TIME_OFF.pattern()))(
        ack=_acknowledge, lazy=[deferred(runtime.engine, cancel_after_ack)]
    )
    app.action(re.compile(ActionId.REQUEST_SWAP.pattern()))(request_swap)
    app.action(re.compile(".*"))(out_of_date)


def _acknowledge(ack: Ack) -> None:
    ack()
