"""Reports of ``resolve``, ``lock`` and ``check``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tagmgr.lock.check import Finding, State
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.platform import Platform
from tagmgr.reconcile.resolve import Resolution
from tagmgr.report.markdown import code, plain
from tagmgr.report.model import Located, Place, Report, Row, counted, many

_RESOLVED = ("found", "not-found", "error")


def resolved(resolutions: Sequence[Resolution], platform: Platform | None) -> Report:
    records = [_resolution_record(r, platform) for r in resolutions]
    states = [_state(record) for record in records]
    counts = counted(_RESOLVED, states)
    rows = tuple(
        Row(_resolution_text(r, platform), _resolution_cells(record, state))
        for r, record, state in zip(resolutions, records, states, strict=True)
    )
    return Report(
        "resolve",
        {"references": records},
        counts,
        rows=rows,
        columns=("reference", "digest", "media type", "note"),
        headline=f"{counts['found']} found, {counts['not-found']} not found, "
        f"{many(counts['error'], 'error')}",
        problems=tuple(
            Located(Place(), f"{record['reference']}: {record['error']}")
            for record in records
            if record["error"]
        ),
    )


def locked(path: Path, entries: int, state: str, problems: Sequence[str] = ()) -> Report:
    """A lock file ``written``, ``unchanged``, ``to be written`` (asked about), ``not written``
    (no yes) or ``not written: interrupted`` (a stop before the write); not written for
    ``problems`` whatever ``state`` says."""
    if problems:
        text, state = f"{path}: not written", "not written"
    else:
        text = f"{path}: {entries} entries, {state}"
    return Report(
        "lock",
        {"lock": str(path), "entries": entries, "written": state == "written"},
        {"entries": entries},
        rows=(Row(text, (code(str(path)), str(entries), state)),),
        columns=("lock file", "entries", ""),
        headline=text,
        problems=tuple(Located(Place(), problem) for problem in problems),
        warnings=(
            *(f"tagmgr: error: {problem}" for problem in problems),
            *([f"tagmgr: {path} was not written"] if problems else []),
        ),
    )


def checked(findings: Sequence[Finding], *, updated: bool) -> Report:
    counts = counted(State, (f.state for f in findings))
    return Report(
        "check",
        {"entries": [_finding_record(f) for f in findings], "updated": updated},
        counts,
        rows=tuple(
            Row(_finding_text(f), _finding_cells(f), f.state is not State.UNCHANGED, f.state)
            for f in findings
        ),
        columns=("", "target", "locked digest", "digest now"),
        summary_line=(
            f"{counts[State.UNCHANGED]} unchanged, {counts[State.MOVED]} moved, "
            f"{counts[State.GONE]} gone, {counts[State.SOURCE_MOVED]} sources moved, "
            f"{counts[State.SOURCE_GONE]} sources gone, {counts[State.ERROR]} errors"
            + ("; the lock file was updated" if updated else "")
        ),
        problems=tuple(
            Located(Place(), _finding_problem(f))
            for f in findings
            if f.state not in (State.UNCHANGED, State.SOURCE_GONE)
        ),
    )


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


def _state(record: dict[str, Any]) -> str:
    if record["error"] is None:
        return "found"
    return "not-found" if record["error"] == "not found" else "error"


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


def _resolution_cells(record: dict[str, Any], state: str) -> tuple[str, ...]:
    chosen = record["platform"]
    digest = chosen["digest"] if chosen else record["digest"]
    note = plain(record["error"]) if state != "found" else ""
    if chosen:
        note = plain(f"{chosen['platform']} of {record['digest']}")
    return (code(record["reference"]), code(digest or ""), code(record["media_type"] or ""), note)


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


def _finding_cells(finding: Finding) -> tuple[str, ...]:
    if finding.state is State.ERROR:
        now = plain(_finding_problem(finding))
    else:
        now = code(finding.new_digest) if finding.new_digest else "none"
    return (finding.state.value, code(str(finding.checked)), code(finding.locked_digest), now)


def _finding_problem(finding: Finding) -> str:
    checked, locked = finding.checked, finding.locked_digest
    of = f", the source of {finding.entry.target}," if finding.source else ""
    if finding.state in (State.MOVED, State.SOURCE_MOVED):
        return f"{checked}{of} moved from {locked} to {finding.new_digest}"
    if finding.state in (State.GONE, State.SOURCE_GONE):
        return f"{checked}{of} is gone; it was at {locked}"
    return f"{checked}: {finding.now.error}"


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
