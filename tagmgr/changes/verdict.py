"""Verdicts and their reasons: plain values that reporters render and ``versions`` acts on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tagmgr import exitcodes


class DiffVerdict(StrEnum):
    IDENTICAL = "identical"  # the same manifest digest
    EQUIVALENT = "equivalent"  # differences only in build noise
    CHANGED = "changed"


@dataclass(frozen=True)
class Reason:
    """One difference that matters: ``kind`` says what, ``subject`` where, ``detail`` how."""

    kind: str  # platform-added, platform-removed, config, file-added, file-removed, file-modified
    subject: str
    detail: str = ""
    ignored_by: str = ""  # the ignore rule, as written, that makes this difference no change

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class PlatformDiff:
    platform: str
    digest_a: str | None
    digest_b: str | None
    verdict: DiffVerdict
    reasons: tuple[Reason, ...] = ()
    ignored: tuple[Reason, ...] = ()  # differences an ignore rule names: they do not count


@dataclass(frozen=True)
class ImageDiff:
    reference_a: str
    reference_b: str
    digest_a: str
    digest_b: str
    platforms: tuple[PlatformDiff, ...]

    @property
    def verdict(self) -> DiffVerdict:
        if self.digest_a == self.digest_b:
            return DiffVerdict.IDENTICAL
        changed = any(p.verdict is DiffVerdict.CHANGED for p in self.platforms)
        return DiffVerdict.CHANGED if changed else DiffVerdict.EQUIVALENT

    @property
    def reasons(self) -> list[Reason]:
        return [reason for platform in self.platforms for reason in platform.reasons]


def platform_verdict(same_digest: bool, reasons: Sequence[Reason]) -> DiffVerdict:
    if same_digest:
        return DiffVerdict.IDENTICAL
    return DiffVerdict.CHANGED if reasons else DiffVerdict.EQUIVALENT


def diff_exit_code(verdicts: Sequence[DiffVerdict]) -> int:
    """0 when every image is identical or equivalent, 2 when any changed."""
    changed = any(verdict is DiffVerdict.CHANGED for verdict in verdicts)
    return exitcodes.CHANGES_PENDING if changed else exitcodes.OK
