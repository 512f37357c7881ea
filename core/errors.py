"""Domain errors: expected failures that front ends turn into a friendly answer.

Anything that is not an `OncallError` is a bug and is logged with an id instead.
"""


class OncallError(Exception):
    """An expected failure whose message is safe and useful to show the user."""


class NotFound(OncallError):
    """The thing asked for does not exist (team, member, pipeline, run book)."""


class Ambiguous(OncallError):
    """The request matches more than one thing; the message lists them."""
