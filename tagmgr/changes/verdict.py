"""Verdicts and their reasons: plain values that reporters render and ``versions`` acts on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tagmgr import exitcodes


class Verdict(StrEnum):
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
    verdict: Verdict
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
    def verdict(self) -> Verdict:
        if self.digest_a == self.digest_b:
            return Verdict.IDENTICAL
        changed = any(p.verdict is Verdict.CHANGED for p in self.platforms)
        return Verdict.CHANGED if changed else Verdict.EQUIVALENT

    @property
    def reasons(self) -> list[Reason]:
        return [reason for platform in self.platforms for reason in platform.reasons]


def platform_verdict(same_digest: bool, reasons: Sequence[Reason]) -> Verdict:
    if same_digest:
        return Verdict.IDENTICAL
    return Verdict.CHANGED if reasons else Verdict.EQUIVALENT


def diff_exit_code(verdicts: Sequence[Verdict]) -> int:
    """0 when every image is identical or equivalent, 2 when any changed."""
    changed = any(verdict is Verdict.CHANGED for verdict in verdicts)
    return exitcodes.CHANGES_PENDING if changed else exitcodes.OK
