"""What YAML makes of an unquoted scalar that looks like text but is not read as text.

PyYAML reads YAML 1.1 (``1:20`` is 80, ``0755`` is 493, ``yes`` is true); editors and most other
tools read YAML 1.2 (``1e3`` is 1000.0, ``0o17`` is 15). A manifest value must be text in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date

from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from tagmgr.documents.explain import clip
from tagmgr.oci.reference import is_valid_tag

YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_STR_TAG = f"{YAML_TAG_PREFIX}str"
_NULL_TAG = f"{YAML_TAG_PREFIX}null"
_SHOWN_VALUE_LENGTH = 40


_RESOLVER = Resolver()

_YAML12_READINGS_START = "+-.0123456789yYnN"  # the first characters _OTHER_READINGS match
YAML_READINGS_START = "".join(
    sorted({*Resolver.yaml_implicit_resolvers, *_YAML12_READINGS_START} - {""})
)
"""Each character that a plain scalar YAML reads as other than text (1.1 or 1.2) can start with."""


def yaml11_tag(text: str) -> str:
    """The tag PyYAML (YAML 1.1) gives an unquoted scalar with this text."""
    tag: str = _RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag


def is_null(text: str) -> bool:
    """Whether an unquoted scalar is null: empty, ``~``, ``null`` (YAML 1.1 and 1.2 agree)."""
    return yaml11_tag(text) == _NULL_TAG


def plain_scalar_trap(text: str, is_key: bool) -> str | None:
    """Say what an unquoted scalar becomes if not text, in YAML 1.1 or 1.2; None when it is text."""
    what = "key" if is_key else "value"
    yaml11 = yaml11_tag(text)
    if text == "":
        return f"empty {what}: YAML reads it as null; write a {what} or remove it"
    shown = clip(text)
    subject = f"the key {shown}" if is_key else shown
    if yaml11 != _STR_TAG:
        return f'YAML reads {subject} as {_yaml11_meaning(yaml11, text)}; quote it: "{shown}"'
    for pattern, readers, meaning_of in _OTHER_READINGS:
        if pattern.fullmatch(text):
            meaning = meaning_of(text) if len(text) <= _SHOWN_VALUE_LENGTH else "a number"
            return f'{readers} {subject} as {meaning}; quote it: "{shown}"'
    return None


_NOUNS = {
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "timestamp": "a date",
    "null": "null",
    "merge": "a merge key",
    "value": "a value key",
}


def _yaml11_meaning(tag: str, text: str) -> str:
    kind = tag.removeprefix(YAML_TAG_PREFIX)
    noun = _NOUNS.get(kind, f"a {kind}")
    value = _constructed(tag, text) if kind in {"int", "float", "bool", "timestamp"} else None
    return f"{noun} ({value})" if value else noun


def _constructed(tag: str, text: str) -> str | None:
    """What PyYAML would make of ``text``, for short values it can build; else None."""
    if len(text) > _SHOWN_VALUE_LENGTH:
        return None
    try:
        value = SafeConstructor().construct_object(ScalarNode(tag, text))
    except (ConstructorError, ValueError, OverflowError):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


_OTHER_READINGS: list[tuple[re.Pattern[str], str, Callable[[str], str]]] = [
    (
        re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"),
        "YAML 1.2 reads",
        lambda text: f"a number ({float(text)!r})",
    ),
    (re.compile(r"0o[0-7]+"), "YAML 1.2 reads", lambda text: f"a number ({int(text[2:], 8)})"),
    (
        re.compile(r"[yYnN]"),
        "some YAML 1.1 parsers read",
        lambda text: f"a boolean ({str(text in 'yY').lower()})",
    ),
]


def yaml_scalar(value: str) -> str:
    """``value`` as YAML: plain when the loader reads it back as text, else double-quoted.

    The loader's own trap check decides, so a written file always loads again: "1.10", "2019",
    "on" and YAML 1.2 numbers such as "1e3" are quoted.
    """
    plain = is_valid_tag(value) and plain_scalar_trap(value, is_key=False) is None
    return value if plain else json.dumps(value, ensure_ascii=False)
