"""Members' Slack ids from their e-mail, for `oncall sync` (`users.lookupByEmail`, scope
`users:read.email`), so a new team need not copy ids by hand.

The catalog asks through a plain callable (`catalog.sync.SlackIdLookup`) and knows
nothing of Slack; this builds it. "No such user" is an answer (None); anything else is a
`LookupFailed` saying why. A failure that will repeat for every member (a missing scope,
a refused token, Slack unreachable) is met once: the other members get the same reason
without another call, so a sync never waits out one timeout per member.
"""

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from catalog.sync import LookupFailed, SlackIdLookup

NOT_FOUND = frozenset({"users_not_found", "user_not_found"})
TOKEN_REFUSALS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type"}
)


def email_lookup(client: WebClient) -> SlackIdLookup:
    """e-mail -> the active Slack user's id, or None when no active user has it."""
    failed: list[str] = []

    def lookup(email: str) -> str | None:
        if failed:
            raise LookupFailed(failed[0])
        try:
            response = client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") in NOT_FOUND:
                return None
            failed.append(_reason(error))
            raise LookupFailed(failed[0]) from None
        except OSError as error:  # refused, reset, DNS, timeouts (urllib's are OSErrors)
            failed.append(f"cannot reach Slack ({error}): check the network and SLACK_API_URL, then sync again")
            raise LookupFailed(failed[0]) from None
        user = response.get("user") or {}
        if not user.get("id") or user.get("deleted") or user.get("is_bot"):
            return None
        return str(user["id"])

    return lookup


def _reason(error: SlackApiError) -> str:
    code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
    if code == "missing_scope":
        return (
            "the app lacks the scope users:read.email: add it under OAuth & Permissions → Bot Token Scopes "
            "(or reinstall from slack-manifest.yaml), then sync again"
        )
    if code in TOKEN_REFUSALS:
        return f"Slack refused SLACK_BOT_TOKEN ({code}): copy the app's Bot User OAuth Token (xoxb-…) again"
    if code == "ratelimited" or error.response.status_code >= 500:
        return f"Slack is busy ({code}): run `oncall sync` again in a minute"
    return f"users.lookupByEmail answered {code}"
