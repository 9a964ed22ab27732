"""A Dockerfile's instructions as BuildKit's parser reads them, each character with its offset in
the file, so a word found in an instruction can be edited in place.

The rules are those of BuildKit's Dockerfile reference ("Format", "Parser directives",
"escape", "Here-Documents"): a UTF-8 byte order mark before the first line is dropped; parser
directives (``# syntax=``, ``# escape=``, ``# check=``) are read only until the first line that
is not one; the escape character (``\\`` or, with ``# escape=```, a backtick) as the last
non-blank character of a line continues the instruction on the next line, where comment lines
and blank lines are skipped and the next line is joined as written (``FROM\\`` followed by
``nginx`` reads ``FROMnginx``); leading blanks before an instruction are ignored; the lines of a
here-document belong to its ``RUN``, ``COPY`` or ``ADD``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tagmgr.documents.textfile import BOM

DEFAULT_ESCAPE = "\\"
ESCAPES = frozenset({"\\", "`"})
DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"\d*<<(-?)([^<]+)")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class Word:
    """Characters of an instruction, with the offset in the file of each one."""

    text: str
    offsets: tuple[int, ...]

    @property
    def start(self) -> int:
        return self.offsets[0]

    def __getitem__(self, index: slice) -> Word:
        return Word(self.text[index], self.offsets[index])


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, ...
    flags: tuple[Word, ...]  # the words starting with "--" right after the keyword
    args: tuple[Word, ...]
    start: int  # where the keyword is


@dataclass
class Dockerfile:
    directives: dict[str, Word] = field(default_factory=dict)
    escape: str = DEFAULT_ESCAPE
    instructions: list[Instruction] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (offset, what is wrong)


def parse_dockerfile(text: str) -> Dockerfile:
    lines = _Lines(text)
    result = Dockerfile()
    _read_directives(lines, result)
    continuation = _continuation(result.escape)
    while (line := lines.next()) is not None:
        chars = _strip(line, left=True)
        if not chars.text or chars.text.startswith("#"):
            continue
        chars, continued = _cut_continuation(chars, continuation)
        parts = [chars]
        while continued and (line := lines.next()) is not None:
            more = _strip(line, left=False)
            if not more.text.strip() or more.text.lstrip().startswith("#"):
                continue
            more, continued = _cut_continuation(more, continuation)
            parts.append(more)
        instruction = _instruction(_join(parts))
        if instruction is not None:
            result.instructions.append(instruction)
            if instruction.keyword in _HEREDOC_INSTRUCTIONS:
                _skip_heredocs(instruction, lines)
    return result


class _Lines:
    """The file's lines, each a Word without its line break; the mark before the first dropped."""

    def __init__(self, text: str) -> None:
        self.lines: list[Word] = []
        offset = 1 if text.startswith(BOM) else 0
        for raw in text[offset:].split("\n"):
            self.lines.append(Word(raw, tuple(range(offset, offset + len(raw)))))
            offset += len(raw) + 1
        self.index = 0

    def peek(self) -> Word | None:
        return self.lines[self.index] if self.index < len(self.lines) else None

    def next(self) -> Word | None:
        line = self.peek()
        self.index += 1
        return line


def _strip(line: Word, *, left: bool) -> Word:
    """Without the carriage return of a CRLF ending and, where ``left``, the leading blanks."""
    end = len(line.text.rstrip("\r"))
    start = len(line.text) - len(line.text.lstrip()) if left else 0
    return line[start:end] if start < end else Word("", ())


def _read_directives(lines: _Lines, result: Dockerfile) -> None:
    """The parser directives at the top; the first line that is not one ends them."""
    while (line := lines.peek()) is not None:
        chars = _strip(line, left=True)
        match = _DIRECTIVE.match(chars.text)
        name = match.group(1).lower() if match else ""
        if not match or name not in DIRECTIVES:
            return
        value = chars[match.start(2) : match.end(2)]
        if name in result.directives:
            result.problems.append((value.start, f"a second {name} directive; BuildKit refuses it"))
        else:
            result.directives[name] = value
        if name == "escape" and value.text in ESCAPES:
            result.escape = value.text
        elif name == "escape":
            result.problems.append((value.start, f"escape {value.text!r} is not \\ or `"))
        lines.next()


def _continuation(escape: str) -> re.Pattern[str]:
    """The escape character ending a line, unless itself escaped, then blanks to the end."""
    token = re.escape(escape)
    return re.compile(rf"(?<!{token}){token}[ \t]*$")


def _cut_continuation(chars: Word, continuation: re.Pattern[str]) -> tuple[Word, bool]:
    match = continuation.search(chars.text)
    return (chars[: match.start()], True) if match else (chars, False)


def _join(parts: list[Word]) -> Word:
    return Word("".join(p.text for p in parts), tuple(o for p in parts for o in p.offsets))


def split_words(chars: Word) -> list[Word]:
    """Words separated by blanks; a blank inside quotes does not separate."""
    words, start, quote = [], None, ""
    for index, char in enumerate(chars.text):
        if start is None:
            if not char.isspace():
                start, quote = index, char if char in "'\"" else ""
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char.isspace():
            words.append(chars[start:index])
            start = None
    if start is not None:
        words.append(chars[start:])
    return words


def _instruction(chars: Word) -> Instruction | None:
    words = split_words(chars)
    return instruction_of(words) if words else None


def instruction_of(words: list[Word]) -> Instruction:
    """The keyword, the flags after it and the arguments, from an instruction's words (also
    those of the instruction an ``ONBUILD`` holds)."""
    flags = []
    rest = words[1:]
    while rest and rest[0].text.startswith("--") and rest[0].text != "--":
        flags.append(rest.pop(0))
    return Instruction(words[0].text.upper(), tuple(flags), tuple(rest), words[0].start)


def _skip_heredocs(instruction: Instruction, lines: _Lines) -> None:
    """The lines of each here-document, up to its delimiter, are its content, not instructions."""
    for word in instruction.args:
        match = _HEREDOC.fullmatch(word.text)
        if not match:
            continue
        chomp, delimiter = match.group(1) == "-", match.group(2).strip("'\"")
        while (line := lines.next()) is not None:
            ending = _strip(line, left=False).text
            if (ending.lstrip("\t") if chomp else ending) == delimiter:
                break
