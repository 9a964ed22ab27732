"""Reporters for ``resolve`` and ``check``, text or JSON, on the JSON writer of ``report``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

from tagmgr.lock.check import Finding, State
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.platform import Platform
from tagmgr.reconcile.resolve import Resolution
from tagmgr.report import JSON_FORMAT_VERSION, dump_json


def report_resolved(
    output: str, stream: IO[str], resolutions: Sequence[Resolution], platform: Platform | None
) -> None:
    if output == "json":
        records = [_resolution_record(r, platform) for r in resolutions]
        document = {"format": JSON_FORMAT_VERSION, "command": "resolve", "references": records}
        dump_json(document, stream)
        return
    for resolution in resolutions:
        stream.write(_resolution_text(resolution, platform) + "\n")


def platform_problem(resolution: Resolution, platform: Platform) -> str | None:
    """Why ``platform`` cannot be picked from what ``resolution`` found, or None."""
    descriptor = resolution.descriptor
    if descriptor is None or resolution.error:
        return None
    if not resolution.children:
        return f"{resolution.reference} is one manifest ({descriptor.media_type}), not an index"
    if resolution.child(platform) is None:
        offered = ", ".join(c.platform_name for c in resolution.children)
        return f"{resolution.reference} has no single {platform} manifest; it has {offered}"
    return None


def _resolution_text(resolution: Resolution, platform: Platform | None) -> str:
    ref, descriptor = resolution.reference, resolution.descriptor
    if resolution.error is not None:
        return f"{ref}  error: {resolution.error}"
    if descriptor is None:
        return f"{ref}  not found"
    if platform is not None:
        problem = platform_problem(resolution, platform)
        child = resolution.child(platform)
        if problem or child is None:
            return f"{ref}  error: {problem}"
        one_of = f"(one platform of {descriptor.digest})"
        return f"{ref}  {child.platform_name}  {child.digest}  {one_of}"
    lines = [f"{ref}  {descriptor.digest}  {descriptor.media_type}"]
    lines += [f"  {c.platform_name}  {c.digest}" for c in resolution.children]
    return "\n".join(lines)


def _child_record(child: Descriptor) -> dict[str, str]:
    return {"platform": child.platform_name, "digest": child.digest, "media_type": child.media_type}


def _resolution_record(resolution: Resolution, platform: Platform | None) -> dict[str, Any]:
    descriptor = resolution.descriptor
    error = resolution.error
    if error is None and descriptor is None:
        error = "not found"
    child = resolution.child(platform) if platform else None
    if platform and error is None:
        error = platform_problem(resolution, platform)
    return {
        "reference": str(resolution.reference),
        "digest": descriptor.digest if descriptor else None,
        "media_type": descriptor.media_type if descriptor else None,
        "size": descriptor.size if descriptor else None,
        "platforms": [_child_record(c) for c in resolution.children],
        "platform": _child_record(child) if child else None,
        "error": error,
    }


def report_checked(
    output: str, stream: IO[str], findings: Sequence[Finding], *, updated: bool
) -> None:
    counts = Counter(f.state for f in findings)
    if output == "json":
        summary = {state.value: counts[state] for state in State}
        document = {
            "format": JSON_FORMAT_VERSION,
            "command": "check",
            "entries": [_finding_record(f) for f in findings],
            "summary": summary,
            "updated": updated,
        }
        dump_json(document, stream)
        return
    for finding in findings:
        stream.write(_finding_text(finding) + "\n")
    stream.write(
        f"\ncheck: {counts[State.UNCHANGED]} unchanged, {counts[State.MOVED]} moved, "
        f"{counts[State.GONE]} gone, {counts[State.SOURCE_MOVED]} sources moved, "
        f"{counts[State.SOURCE_GONE]} sources gone, {counts[State.ERROR]} errors"
        + ("; the lock file was updated" if updated else "")
        + "\n"
    )


def source_not_updated(finding: Finding) -> str:
    """Why ``check --update`` left an entry whose build tag moved as it was."""
    return (
        f"{finding.checked}, the source of {finding.entry.target}, moved"
        f" ({finding.locked_digest} -> {finding.new_digest}); --update does not follow a build"
        " tag: one that moved is a rebuilt or tampered source, not a new release. The entry was"
        " left as it was: find out who pushed it, then put the tag back or lock a new build"
    )


def _finding_text(finding: Finding) -> str:
    head = f"{finding.state.value:<10} {finding.checked}"
    of = f"  (source of {finding.entry.target})" if finding.source else ""
    if finding.state in (State.MOVED, State.SOURCE_MOVED):
        return f"{head}  {finding.locked_digest} -> {finding.new_digest}{of}"
    if finding.state in (State.GONE, State.SOURCE_GONE):
        return f"{head}  was {finding.locked_digest}{of}"
    if finding.state is State.ERROR:
        return f"{head}  {finding.now.error}{of}"
    return f"{head}  {finding.locked_digest}{of}"


def _finding_record(finding: Finding) -> dict[str, Any]:
    return {
        "target": str(finding.entry.target),
        "source": str(finding.entry.source),
        "checked": "source" if finding.source else "target",
        "state": finding.state.value,
        "locked_digest": finding.locked_digest,
        "digest": finding.new_digest,
        "message": finding.now.error,
    }
