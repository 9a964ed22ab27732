"""Reports of ``diff`` and ``versions``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tagmgr.changes.export import export_env, exported
from tagmgr.changes.pinning import Step, VersionStep
from tagmgr.changes.verdict import DiffVerdict, ImageDiff, PlatformDiff, Reason
from tagmgr.changes.versions import VersionsFile
from tagmgr.report.markdown import code, plain
from tagmgr.report.model import Located, Place, Report, Row, counted, many

_CHANGES = frozenset({Step.PIN, Step.UNPIN, Step.ERROR})


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


def diffed(diff: ImageDiff) -> Report:
    head = f"{diff.verdict.value}: {diff.reference_a} -> {diff.reference_b}"
    rows = [Row(head)]
    for platform in diff.platforms:
        lines = [f"  {platform.platform}: {platform.verdict.value}{_digests(platform)}"]
        lines += [f"    {reason_text(reason)}" for reason in (*platform.reasons, *platform.ignored)]
        cells = (
            code(platform.platform),
            platform.verdict.value,
            code((platform.digest_a or "")[:19]),
            code((platform.digest_b or "")[:19]),
            "<br>".join(
                plain(reason_text(reason)) for reason in (*platform.reasons, *platform.ignored)
            ),
        )
        rows.append(Row("\n".join(lines), cells))
    return Report(
        "diff",
        diff_record(diff),
        counted(DiffVerdict, (platform.verdict for platform in diff.platforms)),
        rows=tuple(rows),
        columns=("platform", "verdict", "digest a", "digest b", "reasons"),
        headline=head,
    )


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
        **Place.at(entry.location, entry.field_path).record(),
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


def stepped(
    command: str, steps: Sequence[VersionStep], *, written: bool, interrupted: bool = False
) -> Report:
    """``versions update`` or ``versions release``: each image's step, and the file written
    (``interrupted``: a stop came before the file was written, so it was not)."""
    counts = counted(Step, (step.step for step in steps))
    said = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()) if count)
    note = "not written: interrupted" if interrupted else _file_note(steps, written)
    return Report(
        command,
        {
            "file": steps[0].entry.location.file if steps else None,
            "written": written,
            "entries": [step_record(step) for step in steps],
        },
        counts,
        rows=tuple(_step_row(step) for step in steps),
        columns=("", "image", "version", "build", "manifest"),
        summary_line=f"{said or 'no images'}; {note}",
        problems=tuple(
            Located(
                Place.at(step.entry.location, step.entry.field_path),
                f"{step.entry.name.name}: {step.message}",
            )
            for step in steps
            if step.step is Step.ERROR
        ),
    )


def _step_row(step: VersionStep) -> Row:
    lines = [f"{step.step.value:<9} {step.entry.name.name}  {_version_text(step)}"]
    if step.message:
        lines.append(f"{'':<9} {step.message}")
    if step.step in (Step.UNPIN, Step.KEEP) and step.diff is not None:
        lines += _platform_reasons(step.diff)
    location = step.entry.location
    cells = (
        step.step.value,
        code(step.entry.name.name),
        plain(_version_change(step)),
        step.diff.verdict.value if step.diff else "",
        code(f"{location.file}:{location.line}"),
    )
    return Row("\n".join(lines), cells, step.step in _CHANGES, step.step.value)


def _platform_reasons(diff: ImageDiff) -> list[str]:
    """Each reason, after its platform when the image has several (one platform goes unsaid)."""
    named = len(diff.platforms) > 1
    return [
        f"{'':10}{platform.platform + ': ' if named else ''}{reason_text(reason)}"
        for platform in diff.platforms
        for reason in (*platform.reasons, *platform.ignored)
    ]


def _version_change(step: VersionStep) -> str:
    before, after = step.entry.version, step.version
    text = before or "(unpinned)"
    return text if before == after else f"{text} -> {after or 'null'}"


def _version_text(step: VersionStep) -> str:
    text = _version_change(step)
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


def exports(versions: VersionsFile, build: str | None) -> Report:
    """``versions export``: shell lines as text, which are data for a program, not a report."""
    images = exported(versions, build)
    rows = [Row(export_env(versions, build).removesuffix("\n"))]
    rows += [
        Row("", (code(name), code(variable), code(version))) for name, variable, version in images
    ]
    return Report(
        "versions export",
        {"images": [{"name": n, "variable": v, "version": ver} for n, v, ver in images]},
        {"images": len(images)},
        rows=tuple(rows),
        columns=("image", "variable", "version"),
        headline=many(len(images), "image"),
        step_summary=False,
    )
