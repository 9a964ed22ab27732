"""What a ``FROM`` image becomes once BuildKit fills in the ARGs declared before the first
``FROM`` ("Understand how ARG and FROM interact", "Environment replacement"), each part of the
value with where in the file it was written.

``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME-word}``, ``${NAME:+word}`` and
``${NAME+word}`` are filled in from the ARGs' defaults, quotes and the escape character as the
builder reads them. What the file alone cannot tell is ``Unknown``: an ARG with no default (its
value comes from ``--build-arg``), a platform ARG (``$TARGETARCH``), and the pattern forms
(``${NAME#pattern}``, ``${NAME/a/b}``, ...). A name no ARG before the first ``FROM`` declares is
empty, as BuildKit makes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tagmgr.filerefs.dockerlex import Word

PLATFORM_ARGS = frozenset(
    f"{side}{part}"
    for side in ("BUILD", "TARGET")
    for part in ("PLATFORM", "OS", "OSVERSION", "ARCH", "VARIANT")
) | {"TARGETSTAGE"}
_NAME = re.compile(r"[A-Za-z0-9_]+")
_MODIFIERS = (":-", ":+", "-", "+")


@dataclass(frozen=True)
class Piece:
    """Part of a value: text written at ``start`` (None when not written in one place), by the
    default of ``arg`` or, when ``arg`` is None, by the word itself. A variable that expands to
    nothing is a piece with no text, so a value knows it ends in one."""

    text: str
    start: int | None
    arg: str | None = None


Value = tuple[Piece, ...]


class Unknown(Exception):
    """The value depends on what only the build knows."""


def text_of(value: Value) -> str:
    return "".join(piece.text for piece in value)


class GlobalArgs:
    """The ARGs declared before the first FROM: name -> default (None: declared, no default)."""

    def __init__(self, escape: str) -> None:
        self.escape = escape
        self.defaults: dict[str, Value | None] = {}
        self.unknown: dict[str, str] = {}  # ARGs whose default needs what the build knows

    def declare(self, word: Word) -> None:
        """``NAME`` or ``NAME=default``; the default is filled in from the ARGs before it. An
        ARG without a default keeps an earlier one's (as BuildKit does)."""
        name, equals, _ = word.text.partition("=")
        if not equals:
            self.defaults.setdefault(name, None)
            return
        try:
            value = self.expand(word[len(name) + 1 :])
        except Unknown as unknown:
            self.defaults[name] = None
            self.unknown[name] = str(unknown)
            return
        self.unknown.pop(name, None)
        self.defaults[name] = tuple(
            Piece(p.text, p.start, name if p.arg is None else p.arg) for p in value
        )

    def expand(self, word: Word) -> Value:
        try:
            return _Expansion(self, word).word(0, len(word.text))
        except RecursionError:  # ${A:-${B:-${C:-...}}}, nested beyond reason
            raise Unknown("variables nested too deep") from None


class _Expansion:
    def __init__(self, args: GlobalArgs, word: Word) -> None:
        self.args = args
        self.text = word.text
        self.offsets = word.offsets
        self.pieces: list[Piece] = []

    def literal(self, index: int) -> None:
        self.pieces.append(Piece(self.text[index], self.offsets[index]))

    def word(self, start: int, end: int) -> Value:
        """``text[start:end]`` expanded: quotes and escapes removed, variables filled in."""
        index, quote = start, ""
        while index < end:
            char = self.text[index]
            if char == self.args.escape and index + 1 < end and quote != "'":
                self.literal(index + 1)
                index += 2
            elif char in "'\"" and quote in ("", char):
                quote = "" if quote else char
                index += 1
            elif char == "$" and quote != "'":
                index = self.variable(index, end)
            else:
                self.literal(index)
                index += 1
        return _merged(self.pieces)

    def variable(self, index: int, end: int) -> int:
        """Fill in the variable at ``text[index]`` (a ``$``); return the index after it."""
        braced = self.text.startswith("{", index + 1)
        name_match = _NAME.match(self.text, index + 2 if braced else index + 1, end)
        if name_match is None:
            self.literal(index)  # a "$" that starts no name is itself
            return index + 1
        name, after = name_match.group(), name_match.end()
        if not braced:
            self.pieces += self.lookup(name)
            return after
        close = _closing_brace(self.text, after, end)
        modifier = next((m for m in _MODIFIERS if self.text.startswith(m, after)), None)
        if self.text.startswith("}", after):
            self.pieces += self.lookup(name)
        elif modifier is None:
            raise Unknown(
                f"${{{name}{self.text[after:close]}}} is a substitution tagmgr does not evaluate"
            )
        else:
            self.pieces += self.modified(name, modifier, after + len(modifier), close)
        return close + 1

    def lookup(self, name: str) -> Value:
        default = self.args.defaults.get(name)
        if default is not None:
            return default or (Piece("", None, name),)
        self.check_known(name)
        if name in self.args.defaults:
            raise Unknown(f"ARG {name} has no default: its value is given at build time")
        return (Piece("", None, name),)

    def check_known(self, name: str) -> None:
        if name in self.args.unknown:
            raise Unknown(f"the default of ARG {name}: {self.args.unknown[name]}")
        if name in PLATFORM_ARGS and self.args.defaults.get(name) is None:
            raise Unknown(f"${name} depends on the platform of the build")

    def modified(self, name: str, modifier: str, start: int, end: int) -> Value:
        """``${name:-word}`` and the like: the variable's value or the word, as set or not."""
        self.check_known(name)
        default = self.args.defaults.get(name)
        is_set = default is not None
        if modifier.startswith(":"):
            is_set = is_set and bool(text_of(default or ()))
        use_word = not is_set if modifier.endswith("-") else is_set
        if not use_word:
            return default if modifier.endswith("-") and default else (Piece("", None, name),)
        inner = _Expansion(self.args, Word(self.text, self.offsets))
        return inner.word(start, end) or (Piece("", None, name),)


def _closing_brace(text: str, start: int, end: int) -> int:
    depth = 1
    for index in range(start, end):
        if text.startswith("${", index):
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise Unknown("a ${ that is never closed")


def _merged(pieces: list[Piece]) -> Value:
    """Neighbouring pieces from one place, written one after the other, as one piece; each
    piece's text joined once (adding one character at a time made a long word quadratic)."""
    merged: list[tuple[Piece, list[str]]] = []
    end: int | None = None  # where the last merged piece ends in the file, if it can grow
    for piece in pieces:
        if end is not None and piece.text and piece.start == end and merged[-1][0].arg == piece.arg:
            merged[-1][1].append(piece.text)
            end += len(piece.text)
        else:
            merged.append((piece, [piece.text]))
            end = None if piece.start is None or not piece.text else piece.start + len(piece.text)
    return tuple(Piece("".join(texts), first.start, first.arg) for first, texts in merged)
