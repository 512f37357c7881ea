"""Making user-typed text safe to echo into Slack."""


def counted(count: int, noun: str) -> str:
    """ "1 shift", "3 shifts": English plural by appending s, enough for our nouns."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control sequences.

    With `<`, `>` and `&` escaped, `<!channel>`, `<!here>` or `<@U123>` typed by a user are
    shown literally and never ping anyone.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
