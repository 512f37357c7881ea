"""Workaround for a slack-bolt 1.30 defect in HTTP mode.

`slack_bolt.request.internals.parse_body` treats any form body that merely *contains*
the substring "payload" as an interaction (`payload=<json>`); when there is no such
field it returns `{}`, so `/runbook payload-size` is answered "404 unhandled request".
We re-parse such bodies ourselves: a form with a real `payload` field is an interaction,
anything else is a plain form (a slash command). Socket Mode is not affected.
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltContext
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse


class FormSafeRequest(BoltRequest):
    """A BoltRequest whose form bodies are parsed by field name, not by substring."""

    def __init__(self, *, body: str, query: Any = None, headers: Any = None) -> None:
        super().__init__(body=body, query=query, headers=headers)
        fixed = _parse_form(self.raw_body, self.content_type)
        if fixed is not None and fixed != self.body:
            self.body = fixed
            self.context = build_context(BoltContext({}), fixed)

    def to_copyable(self) -> BoltRequest:
        """Lazy listeners get a copy; keep the corrected body in it."""
        copy = super().to_copyable()
        copy.body = dict(self.body)
        return copy


def _parse_form(raw: str, content_type: str | None) -> dict[str, Any] | None:
    """The body Bolt should have seen, for form bodies only (None for JSON)."""
    if not raw or raw.startswith("{") or content_type == "application/json":
        return None
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in fields:
        parsed = json.loads(fields["payload"])
        return parsed if isinstance(parsed, dict) else None
    return fields


class FormSafeRequestHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, dispatching `FormSafeRequest`s."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        return self.app.dispatch(
            FormSafeRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        )
