"""Characters a reviewer cannot see: refused in every key and value of a manifest.

Control characters (Unicode category Cc) and invisible format characters (Cf: bidirectional
overrides and isolates such as U+202E, zero-width spaces and joiners, the byte order mark, ...)
make a value mean something other than what a diff shows: the Trojan Source class of attack.
YAML lets them in through escapes ("\\u202e") and, for most of them, as they are.
"""

from __future__ import annotations

import re
import unicodedata

_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KINDS = {"Cc": "a control character", "Cf": "an invisible format character"}
_CONTROL_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}  # unnamed in Unicode


def hidden_character(text: str) -> str | None:
    """Why ``text`` cannot stand in a manifest, naming its first hidden character; else None."""
    if text.isascii():
        found = _ASCII_CONTROL.search(text)
        return _explain(found.group()) if found else None
    for char in text:
        if unicodedata.category(char) in _KINDS:
            return _explain(char)
    return None


def _explain(char: str) -> str:
    category = unicodedata.category(char)
    name = unicodedata.name(char, _CONTROL_NAMES.get(char, ""))
    named = f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"
    return (
        f"contains {named}, {_KINDS[category]} (Unicode {category}) that a reviewer cannot see;"
        " remove it"
    )
