"""Words for a value a reviewed file got wrong, whatever kind of file it is.

Echoed values are clipped, so a megabyte of garbage never ends up in a message.
"""

from __future__ import annotations


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


def unknown_key(key: str, allowed: list[str]) -> str:
    from difflib import get_close_matches  # noqa: PLC0415 - only a mistyped key needs it

    close = get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
    return f"unknown key {clip(key)!r}; {hint}"
