"""A token Slack refuses is reported like a missing one: one line naming the variable,
exit code 2, never the token itself."""

from slack_sdk.errors import SlackApiError

from core.settings import MissingSetting


class RejectedToken(MissingSetting):
    """Slack refused a token (`auth.test`, `apps.connections.open`)."""


def rejected(variable: str, method: str, error: SlackApiError) -> RejectedToken:
    return RejectedToken(
        f"{variable} was refused by Slack ({method}: {error.response.get('error')}): "
        "see the README section 'Create the Slack app'"
    )
