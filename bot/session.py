"""One database session per Slack request, opened, committed or rolled back in one place.

Bolt's sync middleware cannot wrap a listener (its `next()` only sets a flag), so
`bot.app.OncallApp.dispatch` wraps the whole dispatch in `unit_of_work`, with listeners
run before the response (`process_before_response`) so they run inside it. Work deferred
until after the ack (lazy listeners) gets a unit of work of its own from `bot.deferred`.
Writes that change a team's schedule still go through `usecases`, under the writer lock.
"""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

SESSION_KEY = "oncall_session"
FAILED_KEY = "oncall_failed"


class RequestSession:
    """Holds the request's session in Bolt's context. Bolt deep-copies the context for
    lazy listeners; the copy holds nothing, so deferred work can never share a session
    across threads by accident."""

    def __init__(self, session: Session | None) -> None:
        self.session = session

    def __deepcopy__(self, memo: dict[int, Any]) -> "RequestSession":
        return RequestSession(None)


@contextmanager
def unit_of_work(engine: Engine, context: MutableMapping[str, Any]) -> Iterator[Session]:
    """A session for one request: committed when it went well, rolled back when a
    listener failed (the error handler says so with `mark_failed`) or anything raised."""
    with Session(engine, expire_on_commit=False) as session:
        context[SESSION_KEY] = RequestSession(session)
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if context.get(FAILED_KEY):
            session.rollback()
        else:
            session.commit()


def session_of(context: MutableMapping[str, Any]) -> Session:
    holder = context.get(SESSION_KEY)
    if not isinstance(holder, RequestSession) or holder.session is None:
        raise RuntimeError("no unit of work is open for this request")
    return holder.session


def mark_failed(context: MutableMapping[str, Any]) -> None:
    context[FAILED_KEY] = True
