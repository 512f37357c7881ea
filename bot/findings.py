"""What `oncall doctor` reports, and how a refused Slack call becomes a report rather than a
traceback: shared by the checks in `bot.doctor` and `bot.channel_checks`."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.courier import FIXES

REINSTALL = "add it under OAuth & Permissions → Bot Token Scopes (all are in slack-manifest.yaml), then reinstall"
RETRY = "run `oncall doctor` again; if it persists, check the network and SLACK_API_URL"


class Severity(StrEnum):
    ERROR = "error"  # something will fail: a post, a DM, a command
    WARNING = "warning"  # works, but worse (a retry may post twice), or could not be checked


@dataclass(frozen=True)
class Finding:
    """One problem: what it is about, what is wrong, and what to do."""

    subject: str
    problem: str
    fix: str
    severity: Severity = Severity.ERROR

    def line(self) -> str:
        return f"{self.severity}: {self.subject}: {self.problem} -> {self.fix}"


class Refused(Exception):
    """A Slack call that did not answer: Slack's error code (and the scope it `needed`),
    or "connection error: …"."""

    def __init__(self, code: str, needed: str | None = None) -> None:
        super().__init__(code)
        self.code, self.needed = code, needed


def ask(method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
    """One Web API call; every failure is a `Refused`."""
    try:
        return method(**kwargs)
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        raise Refused(code, error.response.get("needed")) from None
    except OSError as error:  # refused, reset, DNS, timeouts (urllib's are OSErrors)
        raise Refused(f"connection error: {error}") from None


def fix_for(refusal: Refused) -> str:
    """The courier's fix for the code (the same words the outbox logs), else "try again"."""
    if refusal.code == "missing_scope":
        return f"grant {refusal.needed or 'the scope it names'}: {REINSTALL}"
    return FIXES.get(refusal.code, RETRY)


def could_not(subject: str, method: str, refusal: Refused) -> Finding:
    """A check Slack would not answer: a warning, since nothing was found wrong yet."""
    return Finding(subject, f"could not check ({method}: {refusal.code})", fix_for(refusal), Severity.WARNING)
