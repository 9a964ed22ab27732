"""Glob patterns compiled once into a Thompson NFA and matched without ever backtracking.

Python's ``re`` backtracks: ``*a*a*a*a*a*a*a*a*a*a*a*a*b`` translated to a regex can run for a very
long time on a short path (docs/design.md). Here every pattern becomes a small automaton, and a text
is read one character at a time while the set of states it can be in is carried along (a Pike VM
without captures), so a match costs at most ``len(text) * (2 * size + 1)`` steps whatever the
pattern: one per character, and one per instruction followed or tested when a move is not known yet.
State sets already seen are remembered with their moves (a lazy DFA, as RE2 builds one), which makes
the common case one dictionary lookup per character; that memory is capped, and when it is full it
is dropped and built again, still in linear time.

Several patterns are compiled into one automaton; a match says which pattern matched first in
the order given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

CharTest = Callable[[str], bool]
MAX_CACHED_STATES = 4096  # distinct state sets remembered per matcher


class GlobError(ValueError):
    """A pattern that is no glob: what is wrong, and at which character (from 0) of the pattern."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Char:
    test: CharTest


@dataclass(frozen=True)
class Star:
    """Zero or more of ``node``."""

    node: Node


@dataclass(frozen=True)
class Seq:
    nodes: tuple[Node, ...]


Node = Char | Star | Seq


def literal(char: str) -> Char:
    return Char(char.__eq__)


def any_but(excluded: str) -> Char:
    return Char(lambda char: char not in excluded)


def one_or_more(node: Node) -> Seq:
    return Seq((node, Star(node)))


def parse_set(pattern: str, start: int, excluded: str) -> tuple[Char, int]:
    """The set that opens at ``pattern[start] == "["``, and the index after its ``]``.

    As POSIX and fnmatch read it: ``!`` first negates; a ``]`` first is a member; ``a-z`` is a
    range and ``-`` first or last a member. ``excluded`` characters never match.
    """
    position = start + 1
    negated = pattern.startswith("!", position)
    position += negated
    members: list[tuple[str, str]] = []
    while position < len(pattern) and (pattern[position] != "]" or not members):
        low = pattern[position]
        if pattern.startswith("-", position + 1) and position + 2 < len(pattern):
            high = pattern[position + 2]
            if high != "]":
                if high < low:
                    raise GlobError(f"the range {low}-{high} in a '[...]' set is reversed", start)
                members.append((low, high))
                position += 3
                continue
        members.append((low, low))
        position += 1
    if position >= len(pattern):
        raise GlobError("a '[' without its ']' (a ']' right after '[' or '[!' is a member)", start)
    ranges = tuple(members)

    def test(char: str) -> bool:
        inside = any(low <= char <= high for low, high in ranges)
        return char not in excluded and inside != negated

    return Char(test), position + 1


def parse_word(pattern: str, excluded: str = "") -> Seq:
    """``*``, ``?`` and ``[...]`` over characters, none of them matching ``excluded``; every
    other character stands for itself (a ``]`` outside a set included)."""
    nodes: list[Node] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "[":
            node, position = parse_set(pattern, position, excluded)
            nodes.append(node)
            continue
        if char == "*":
            if not (nodes and isinstance(nodes[-1], Star)):  # '**' in a word is one '*'
                nodes.append(Star(any_but(excluded)))
        elif char == "?":
            nodes.append(any_but(excluded))
        else:
            nodes.append(literal(char))
        position += 1
    return Seq(tuple(nodes))


# The program: each instruction is one of these, at its index.
@dataclass(frozen=True)
class _Test:
    test: CharTest
    next: int


@dataclass(frozen=True)
class _Split:
    first: int
    second: int


@dataclass(frozen=True)
class _Accept:
    pattern: int


_Instruction = _Test | _Split | _Accept


@dataclass
class _Builder:
    program: list[_Instruction | None] = field(default_factory=list)

    def emit(self, node: Node, then: int) -> int:
        """The instructions for ``node`` followed by those at ``then``; returns where it starts."""
        if isinstance(node, Char):
            return self._put(_Test(node.test, then))
        if isinstance(node, Seq):
            for part in reversed(node.nodes):
                then = self.emit(part, then)
            return then
        loop = self._put(None)  # the split is known once the body is
        body = self.emit(node.node, loop)
        self.program[loop] = _Split(body, then)
        return loop

    def _put(self, instruction: _Instruction | None) -> int:
        self.program.append(instruction)
        return len(self.program) - 1


class Matcher:
    """Patterns (``Node`` trees) in one automaton; ``first_match`` is linear in the text."""

    def __init__(self, patterns: Sequence[Node]) -> None:
        builder = _Builder()
        starts = [builder.emit(node, builder._put(_Accept(n))) for n, node in enumerate(patterns)]
        self._program = [i for i in builder.program if i is not None]  # every split is filled in
        self.steps = 0  # instructions and cached moves visited so far, for tests of linearity
        self._states: dict[tuple[int, ...], int] = {}
        self._sets: list[tuple[int, ...]] = []
        self._moves: dict[tuple[int, str], int] = {}
        self.flushes = 0  # how often the state cache was full and started again
        self._start = self._intern(self._closure(starts))

    @property
    def size(self) -> int:
        return len(self._program)

    def first_match(self, text: str) -> int | None:
        """The index of the first pattern matching all of ``text``, or None."""
        state = self._start
        for char in text:
            self.steps += 1
            move = self._moves.get((state, char))
            if move is None:
                move = self._move(state, char)
            state = move
            if not self._sets[state]:
                return None
        accepted = [
            instruction.pattern
            for pc in self._sets[state]
            if isinstance(instruction := self._program[pc], _Accept)
        ]
        return min(accepted, default=None)

    def _move(self, state: int, char: str) -> int:
        targets = []
        for pc in self._sets[state]:
            self.steps += 1
            instruction = self._program[pc]
            if isinstance(instruction, _Test) and instruction.test(char):
                targets.append(instruction.next)
        flushes = self.flushes
        following = self._state(self._closure(targets))
        if flushes == self.flushes:  # ``state`` still names the same set
            self._moves[(state, char)] = following
        return following

    def _closure(self, pcs: Sequence[int]) -> tuple[int, ...]:
        """Every instruction reachable from ``pcs`` through splits, splits left out, in order."""
        seen: set[int] = set()
        found: list[int] = []
        stack = list(reversed(pcs))
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            self.steps += 1
            instruction = self._program[pc]
            if isinstance(instruction, _Split):
                stack += [instruction.second, instruction.first]
            else:
                found.append(pc)
        return tuple(found)

    def _state(self, pcs: tuple[int, ...]) -> int:
        known = self._states.get(pcs)
        if known is not None:
            return known
        if len(self._sets) >= MAX_CACHED_STATES:  # full: start again from the start state alone
            start = self._sets[self._start]
            self._states.clear()
            self._sets.clear()
            self._moves.clear()
            self.flushes += 1
            self._start = self._intern(start)
        return self._intern(pcs)

    def _intern(self, pcs: tuple[int, ...]) -> int:
        self._states[pcs] = len(self._sets)
        self._sets.append(pcs)
        return self._states[pcs]
