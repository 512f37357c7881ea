"""Our run books' Markdown subset, converted to Slack mrkdwn and cut to Slack's limits."""

import re
from collections.abc import Iterator

SECTION_LIMIT = 3000  # characters in one section block's text
ECHO_LIMIT = 80  # characters of the user's own text quoted back in an answer


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control sequences.

    With `<`, `>` and `&` escaped, `<!channel>`, `<!here>` or `<@U123>` typed by a user are
    shown literally and never ping anyone.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """User text quoted back: whitespace collapsed, backticks (which would end our code
    span) made quotes, cut to `limit` with "…". The one helper for every echo, so no
    answer can grow past a Block Kit limit because of what someone typed; escape after."""
    return fit(" ".join(text.split()).replace("`", "'"), limit)


def fit(text: str, limit: int) -> str:
    """Rendered text cut to a Block Kit limit, marked with "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BULLET = re.compile(r"^(\s*)[-*] ")
_FENCE = re.compile(r"^\s*(```|~~~)")


def to_mrkdwn(markdown: str) -> str:
    """Bold, links and bullets in Slack's dialect; code is left alone."""
    lines, in_code = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            lines.append("```")
            continue
        lines.append(escape_mrkdwn(line) if in_code else _convert_line(line))
    return "\n".join(lines)


def _convert_line(line: str) -> str:
    """Convert outside inline `code` spans only (odd pieces of the split are code)."""
    pieces = escape_mrkdwn(line).split("`")
    for index in range(0, len(pieces), 2):
        pieces[index] = _LINK.sub(r"<\2|\1>", _BOLD.sub(r"*\1*", pieces[index]))
    return _BULLET.sub(lambda m: "  " * (len(m.group(1)) // 2) + "• ", "`".join(pieces))


def chunks(text: str, limit: int = SECTION_LIMIT) -> Iterator[str]:
    """Split at paragraph, then line, then hard boundaries so each piece fits `limit`."""
    piece = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{piece}\n\n{paragraph}" if piece else paragraph
        if len(candidate) <= limit:
            piece = candidate
            continue
        if piece:
            yield piece
        piece = ""
        for line in _split_long(paragraph, limit):
            candidate = f"{piece}\n{line}" if piece else line
            if len(candidate) <= limit:
                piece = candidate
            else:
                yield piece
                piece = line
    if piece:
        yield piece


def _split_long(paragraph: str, limit: int) -> Iterator[str]:
    for line in paragraph.split("\n"):
        while len(line) > limit:
            yield line[:limit]
            line = line[limit:]
        yield line
