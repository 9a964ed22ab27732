"""Text and JSON renderings of diffs and versions plans, through ``tagmgr.report``'s JSON writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from tagmgr.changes.verdict import ImageDiff, PlatformDiff, Reason
from tagmgr.report import JSON_FORMAT_VERSION, dump_json


def reason_record(reason: Reason) -> dict[str, str]:
    return {"kind": reason.kind, "subject": reason.subject, "detail": reason.detail}


def diff_record(diff: ImageDiff) -> dict[str, Any]:
    return {
        "a": diff.reference_a,
        "b": diff.reference_b,
        "digest_a": diff.digest_a,
        "digest_b": diff.digest_b,
        "verdict": diff.verdict.value,
        "platforms": [
            {
                "platform": platform.platform,
                "digest_a": platform.digest_a,
                "digest_b": platform.digest_b,
                "verdict": platform.verdict.value,
                "reasons": [reason_record(reason) for reason in platform.reasons],
            }
            for platform in diff.platforms
        ],
    }


def write_diff(diff: ImageDiff, output: str, stream: IO[str]) -> None:
    if output == "json":
        dump_json({"format": JSON_FORMAT_VERSION, "command": "diff", **diff_record(diff)}, stream)
        return
    stream.write(f"{diff.verdict.value}: {diff.reference_a} -> {diff.reference_b}\n")
    for platform in diff.platforms:
        stream.write(f"  {platform.platform}: {platform.verdict.value}{_digests(platform)}\n")
        write_reasons(platform.reasons, stream, indent=4)


def write_reasons(reasons: Sequence[Reason], stream: IO[str], *, indent: int) -> None:
    for reason in reasons:
        stream.write(f"{' ' * indent}{reason}\n")


def _digests(platform: PlatformDiff) -> str:
    if platform.digest_a == platform.digest_b or not (platform.digest_a and platform.digest_b):
        return ""
    return f" ({platform.digest_a[:19]} -> {platform.digest_b[:19]})"
