"""Text and JSON renderings of diffs and versions plans, through ``tagmgr.report``'s JSON writer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

from tagmgr.changes.pinning import Step, VersionStep
from tagmgr.changes.verdict import ImageDiff, PlatformDiff, Reason
from tagmgr.report import JSON_FORMAT_VERSION, dump_json


def reason_record(reason: Reason) -> dict[str, str]:
    record = {"kind": reason.kind, "subject": reason.subject, "detail": reason.detail}
    return {**record, "rule": reason.ignored_by} if reason.ignored_by else record


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
                "ignored": [reason_record(reason) for reason in platform.ignored],
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
        write_reasons(platform.ignored, stream, indent=4)


def write_reasons(reasons: Sequence[Reason], stream: IO[str], *, indent: int) -> None:
    for reason in reasons:
        stream.write(f"{' ' * indent}{reason_text(reason)}\n")


def reason_text(reason: Reason) -> str:
    """``file-added srv/index.html: file``; an ignored one says by which rule."""
    return f"ignored by {reason.ignored_by}: {reason}" if reason.ignored_by else str(reason)


def _digests(platform: PlatformDiff) -> str:
    if platform.digest_a == platform.digest_b or not (platform.digest_a and platform.digest_b):
        return ""
    return f" ({platform.digest_a[:19]} -> {platform.digest_b[:19]})"


def step_record(step: VersionStep) -> dict[str, Any]:
    entry, action, outcome = step.entry, step.action, step.outcome
    return {
        "file": entry.location.file,
        "line": entry.location.line,
        "entry": entry.field_path,
        "name": entry.name.name,
        "pin": entry.pin.value,
        "version_before": entry.version,
        "version": step.version,
        "step": step.step.value,
        "verdict": step.diff.verdict.value if step.diff else None,
        "reasons": [
            {"platform": platform.platform, **reason_record(reason)}
            for platform in (step.diff.platforms if step.diff else ())
            for reason in platform.reasons
        ],
        "ignored": [
            {"platform": platform.platform, **reason_record(reason)}
            for platform in (step.diff.platforms if step.diff else ())
            for reason in platform.ignored
        ],
        "action": action.kind.value if action else None,
        "result": outcome.result.value if outcome else None,
        "source_digest": action.source.digest if action and action.source else None,
        "message": step.message or None,
    }


def write_steps(
    command: str, steps: Sequence[VersionStep], *, written: bool, output: str, stream: IO[str]
) -> None:
    counts = Counter(step.step.value for step in steps)
    if output == "json":
        document = {
            "format": JSON_FORMAT_VERSION,
            "command": command,
            "file": steps[0].entry.location.file if steps else None,
            "written": written,
            "entries": [step_record(step) for step in steps],
            "summary": dict(sorted(counts.items())),
        }
        dump_json(document, stream)
        return
    for step in steps:
        stream.write(f"{step.step.value:<9} {step.entry.name.name}  {_version_text(step)}\n")
        if step.message:
            stream.write(f"{'':<9} {step.message}\n")
        if step.step in (Step.UNPIN, Step.KEEP) and step.diff is not None:
            _write_platform_reasons(step.diff, stream)
    summary = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    stream.write(f"\n{command}: {summary or 'no images'}; {_file_note(steps, written)}\n")


def _write_platform_reasons(diff: ImageDiff, stream: IO[str]) -> None:
    """Each reason, after its platform when the image has several (one platform goes unsaid)."""
    named = len(diff.platforms) > 1
    for platform in diff.platforms:
        prefix = f"{platform.platform}: " if named else ""
        for reason in (*platform.reasons, *platform.ignored):
            stream.write(f"{'':10}{prefix}{reason_text(reason)}\n")


def _version_text(step: VersionStep) -> str:
    before, after = step.entry.version, step.version
    text = before or "(unpinned)"
    if before != after:
        text += f" -> {after or 'null'}"
    if step.diff is not None:
        text += f"  (build {step.diff.verdict.value})"
    if step.action is not None and step.action.source is not None:
        done = step.outcome.result.value if step.outcome else step.action.kind.value
        text += f"  ({done} at {step.action.source.digest[:19]})"
    return text


def _file_note(steps: Sequence[VersionStep], written: bool) -> str:
    if written:
        return "file written"
    pending = any(step.step in (Step.PIN, Step.UNPIN) for step in steps)
    return "nothing written (--write to write)" if pending else "nothing to change"
