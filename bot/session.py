"""One database session per Slack request, opened, committed or rolled back in one place.

Bolt's sync middleware cannot wrap a listener (its `next()` only sets a flag), so
`bot.app.OncallApp.dispatch` wraps the whole dispatch in `unit_of_work`, with listeners
run before the response (`process_before_response`) so they run inside it. Work deferred
until after the ack (lazy listeners) gets a unit of work of its own from `bot.deferred`.
Writes that change a team's schedule still go through `usecases`, under the writer lock.
"""

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

SESSION_KEY = "oncall_session"


class RequestScope:
    """The request's session, and what to send once the ack has gone, in Bolt's context.
    Bolt deep-copies the context for lazy listeners; the copy holds nothing, so deferred
    work can never share a session across threads by accident."""

    def __init__(self, session: Session | None) -> None:
        self.session = session
        self.after_ack: list[Callable[[], None]] = []
        self.failed = False  # set by the error handler: roll back

    def __deepcopy__(self, memo: dict[int, Any]) -> "RequestScope":
        return RequestScope(None)


@contextmanager
def unit_of_work(engine: Engine, context: MutableMapping[str, Any]) -> Iterator[RequestScope]:
    """A session for one request: committed when it went well, rolled back when a
    listener failed (the error handler says so with `mark_failed`) or anything raised."""
    with Session(engine, expire_on_commit=False) as session:
        scope = context[SESSION_KEY] = RequestScope(session)
        try:
            yield scope
        except BaseException:
            session.rollback()
            raise
        if scope.failed:
            session.rollback()
        else:
            session.commit()


def session_of(context: MutableMapping[str, Any]) -> Session:
    session = _scope(context).session
    if session is None:
        raise RuntimeError("no unit of work is open for this request")
    return session


def after_ack(context: MutableMapping[str, Any], work: Callable[[], None]) -> None:
    """Send `work`'s messages once the request is answered (`OncallApp.dispatch` starts
    them after the commit): a later page never overtakes the first, a slow or
    rate-limited Slack never holds up the ack, and nothing goes out for a request whose
    commit failed."""
    _scope(context).after_ack.append(work)


def _scope(context: MutableMapping[str, Any]) -> RequestScope:
    scope = context.get(SESSION_KEY)
    if not isinstance(scope, RequestScope):
        raise RuntimeError("no unit of work is open for this request")
    return scope


def mark_failed(context: MutableMapping[str, Any]) -> None:
    _scope(context).failed = True
