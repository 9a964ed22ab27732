"""The builder's fast path: a scalar it takes as clean text must be one the full checks pass.

``_is_clean_text`` answers most scalars with a regex instead of the resolver and the hidden-
character check; a wrong yes would let ``yes``, ``0o17`` or a bidirectional override through.
So every printable ASCII first character, and the traps of both YAML versions, are put to both.
"""

from __future__ import annotations

import itertools

import pytest
from yaml.events import ScalarEvent

from tagmgr.documents import yamldoc

FIRSTS = [chr(code) for code in range(0x20, 0x7F)]
RESTS = [
    "",
    "x",
    "0",
    "1e3",
    ".5",
    ":20",
    "es",
    "rue",
    "ull",
    "o17",
    "-01-02",
    " a",
    "\t",
    "\u202e",
]
TRAPS = [
    *("y", "Y", "n", "N", "yes", "No", "on", "OFF", "true", "False", "null", "~", ""),
    *("1.10", "0755", "1:20", "2019-12-03", "1e3", "0o17", ".inf", "-.5", "+1", "<<", "="),
    *("stx.4.0-v2.2", "docker.io/a/b", "master-centos", "name", "tag", "\u200b", "caf\u00e9"),
]


def _event(text: str, style: str | None) -> ScalarEvent:
    return ScalarEvent(None, None, (style is None, style is not None), text, style=style)


@pytest.mark.parametrize("style", [None, "'", '"'])
def test_a_scalar_taken_as_clean_text_passes_every_check(style: str | None) -> None:
    texts = [first + rest for first, rest in itertools.product(FIRSTS, RESTS)] + TRAPS
    plain = style is None
    wrong = [
        text
        for text in texts
        if yamldoc._is_clean_text(_event(text, style))
        and yamldoc._text_problem(text, plain, False) is not None
    ]
    assert wrong == []


def test_the_fast_path_says_no_to_what_a_check_would_refuse() -> None:
    refused = [text for text in TRAPS if yamldoc._text_problem(text, True, False) is not None]
    assert refused  # the traps above are traps
    assert [text for text in refused if yamldoc._is_clean_text(_event(text, None))] == []


@pytest.mark.parametrize(("anchor", "tag"), [("a", None), (None, "!x")])
def test_an_anchor_or_a_tag_is_never_clean(anchor: str | None, tag: str | None) -> None:
    event = ScalarEvent(anchor, tag, (True, False), "text")
    assert not yamldoc._is_clean_text(event)
