"""Making user-typed text safe to echo into Slack."""


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control sequences.

    With `<`, `>` and `&` escaped, `<!channel>`, `<!here>` or `<@U123>` typed by a user are
    shown literally and never ping anyone.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
