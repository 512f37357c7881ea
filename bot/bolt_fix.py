"""Parsing Slack's HTTP bodies ourselves, because slack-bolt 1.30 gets two things wrong.

1. `slack_bolt.request.internals.parse_body` treats any form body that merely *contains*
   the substring "payload" as an interaction (`payload=<json>`); when there is no such
   field it returns `{}`, so `/runbook payload-size` is answered "404 unhandled request".
   Here a form with a real `payload` field is an interaction, anything else a plain form
   (a slash command). Socket Mode is not affected.
2. A body that is not what Slack sends (`payload=notjson`, JSON `null`, JSON nested past
   the recursion limit, `"actions": "x"`) makes Bolt raise while it builds or routes the
   request: a 500 with a traceback. `parse_body` names the problem instead, so the edge
   can answer 400.
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

JSON_TYPE = "application/json"


class MalformedBody(ValueError):
    """The body is not one of the shapes Slack sends; the message says which rule failed."""


def parse_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """The fields Slack meant: a JSON object (events), `payload=<JSON object>`
    (interactions) or form fields (slash commands). Detects JSON exactly as Bolt does,
    so Bolt's own parse of the same text can no longer fail."""
    if not raw:
        return {}
    if content_type == JSON_TYPE or raw.startswith("{"):
        return _routable(_json_object(raw, "JSON body"))
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    return _routable(_json_object(fields["payload"], "payload field")) if "payload" in fields else fields


def _routable(body: dict[str, Any]) -> dict[str, Any]:
    """Bolt's matchers index into `event`, `view` and `actions` without checking their
    types, so a wrong one would end in the error handler as a 500."""
    for key, kind in (("event", dict), ("view", dict), ("actions", list)):
        if key in body and not isinstance(body[key], kind):
            raise MalformedBody(f"{key} is not a JSON {'object' if kind is dict else 'array'}")
    if not all(isinstance(action, dict) for action in body.get("actions", [])):
        raise MalformedBody("actions are not JSON objects")
    return body


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise MalformedBody(f"{what} is not valid JSON") from error
    if not isinstance(parsed, dict):
        raise MalformedBody(f"{what} is not a JSON object")
    return parsed


class FormSafeRequest(BoltRequest):
    """A BoltRequest carrying the fields `parse_body` found, not Bolt's substring guess."""

    def __init__(self, *, body: str, fields: dict[str, Any], query: Any = None, headers: Any = None) -> None:
        super().__init__(body=body, query=query, headers=headers)
        if fields != self.body:
            self.body = fields
            self.context = build_context(BoltContext({}), fields)

    def to_copyable(self) -> BoltRequest:
        """Lazy listeners get a copy; keep the corrected body in it."""
        copy = super().to_copyable()
        copy.body = dict(self.body)
        return copy
