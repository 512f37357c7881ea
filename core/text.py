"""Plain-English text helpers shared by every front end."""


def counted(count: int, noun: str) -> str:
    """ "1 shift", "3 shifts": English plural by appending s, enough for our nouns."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
