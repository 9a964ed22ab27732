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


_TYPE_NAMES = {
    "string": "text",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}
_VALUE_TYPE_NAMES: dict[type, str] = {
    str: "text",
    list: "a list",
    dict: "a mapping",
    int: "a number",
    float: "a number",
    bool: "true or false",
}


def type_name(value: object) -> str:
    return _VALUE_TYPE_NAMES.get(type(value), "empty")


def wrong_type(expected: object, value: object) -> str:
    """``expected`` is a JSON Schema ``type``: one name or a list of them."""
    types = expected if isinstance(expected, list) else [expected]
    wanted = " or ".join(_TYPE_NAMES.get(str(kind), str(kind)) for kind in types)
    return f"must be {wanted}, not {type_name(value)}"
