"""Environment chains and history tags: the names that promotion moves and that expiry keeps.

An environment tag (``prd``) moves by design: ``promote`` and ``rollback`` point it at another
digest. Each move also creates a history tag, ``prd-20261201T232226Z`` (UTC), that never moves,
so what ran before stays tagged and can be rolled back to. The newest history tag of an
environment is the one with the latest timestamp, whenever it was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from tagmgr.errors import TagmgrError
from tagmgr.oci.reference import explain_invalid_tag, is_valid_tag

DEFAULT_CHAIN = ("dev", "stg", "prd")
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
TIMESTAMP_PATTERN = r"[0-9]{8}T[0-9]{6}Z"
_TIMESTAMP_RE = re.compile(rf"(?<![0-9])({TIMESTAMP_PATTERN})")
# An environment name leaves room for "-YYYYMMDDTHHMMSSZ" within the 128 characters of a tag.
MAX_ENVIRONMENT_LENGTH = 128 - 17


class ChainError(TagmgrError):
    """An environment chain that cannot be used."""


class Chain:
    """Environments in promotion order: a digest reaches ``names[i]`` only from ``names[i-1]``.

    Never changed once made. A plain class: a named tuple's own ``index`` and ``in`` would clash
    with these.
    """

    __slots__ = ("names",)

    def __init__(self, names: tuple[str, ...] = DEFAULT_CHAIN) -> None:
        self.names = names

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chain) and other.names == self.names

    def __hash__(self) -> int:
        return hash(self.names)

    def __repr__(self) -> str:
        return f"Chain({self.names!r})"

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def previous(self, name: str) -> str | None:
        """The environment before ``name``; None for the first, which accepts any digest."""
        index = self.index(name)
        return self.names[index - 1] if index else None

    def index(self, name: str) -> int:
        if name not in self.names:
            raise ChainError(f"{name!r} is not an environment of the chain {','.join(self.names)}")
        return self.names.index(name)

    def is_reserved(self, tag: str) -> bool:
        """True for an environment tag or a history tag of one: no release tag may be either."""
        return tag in self.names or parse_history_tag(tag, self) is not None


def parse_chain(text: str) -> Chain:
    """``dev,stg,prd`` -> a Chain; names are tags, unique, at least one."""
    return chain_of(part.strip() for part in text.split(","))


def chain_of(names: Iterable[str]) -> Chain:
    listed = tuple(names)
    for name in listed:
        problem = explain_environment(name)
        if problem:
            raise ChainError(f"environment {name!r}: {problem}")
    duplicates = sorted({name for name in listed if listed.count(name) > 1})
    if duplicates:
        raise ChainError(f"environment {duplicates[0]!r} is named twice in the chain")
    if not listed:
        raise ChainError("the environment chain is empty")
    return Chain(listed)


def explain_environment(name: str) -> str | None:
    """Why ``name`` cannot be an environment, or None."""
    if not is_valid_tag(name):
        return explain_invalid_tag(name)
    if len(name) > MAX_ENVIRONMENT_LENGTH:
        return f"at most {MAX_ENVIRONMENT_LENGTH} characters, to leave room for a history tag"
    if _TIMESTAMP_RE.search(name):
        return "must not contain a timestamp: it would read as a history tag"
    return None


class HistoryTag(NamedTuple):
    """``ENV-YYYYMMDDTHHMMSSZ``: ``environment`` pointed at this tag's digest when the tag was
    written, at ``time`` (or, when moves shared a second, a few seconds before: see
    ``next_history_tag``)."""

    time: datetime
    environment: str

    @property
    def tag(self) -> str:
        return f"{self.environment}-{format_timestamp(self.time)}"


def history_tag(environment: str, when: datetime) -> HistoryTag:
    return HistoryTag(when.astimezone(UTC).replace(microsecond=0), environment)


def next_history_tag(environment: str, now: datetime, newest: HistoryTag | None) -> HistoryTag:
    """The history tag for a move of ``environment`` at ``now``: that second, or the second after
    ``newest`` (the environment's newest history tag) when that is not earlier, so the new tag is
    the newest. Moves within one second, or a clock behind another writer's, put it ahead."""
    entry = history_tag(environment, now)
    if newest is None or entry.time > newest.time:
        return entry
    return HistoryTag(newest.time + timedelta(seconds=1), environment)


def parse_history_tag(tag: str, chain: Chain) -> HistoryTag | None:
    environment, dash, stamp = tag.rpartition("-")
    if not dash or environment not in chain or not re.fullmatch(TIMESTAMP_PATTERN, stamp):
        return None
    when = parse_timestamp(stamp)
    return HistoryTag(when, environment) if when else None


def history_of(tags: Iterable[str], chain: Chain, environment: str) -> list[tuple[HistoryTag, str]]:
    """The history tags of ``environment`` among ``tags``, oldest first, with the tag text."""
    found = [
        (parsed, tag)
        for tag in tags
        if (parsed := parse_history_tag(tag, chain)) and parsed.environment == environment
    ]
    return sorted(found)


def format_timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def build_time(tags: Sequence[str], chain: Chain) -> tuple[datetime, str] | None:
    """The newest build timestamp (``20191203T153530Z``) in a tag that is not a history tag.

    Returns the time and the tag it came from.
    """
    found = [
        (when, tag)
        for tag in tags
        if parse_history_tag(tag, chain) is None
        for match in _TIMESTAMP_RE.finditer(tag)
        if (when := parse_timestamp(match.group(1)))
    ]
    return max(found) if found else None
