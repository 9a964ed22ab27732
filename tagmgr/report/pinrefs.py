"""The report of ``pin-refs``: each change at its place, what cannot be pinned, what was left.

Text is a unified diff of each file that would change (or, with ``--write``, a line per file
written); what was skipped and what cannot be pinned also go to stderr, whatever the format.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tagmgr.filerefs.walk import Skipped
from tagmgr.pinrefs.edit import FileEdit, unified_diff
from tagmgr.pinrefs.pins import Change
from tagmgr.report.markdown import code
from tagmgr.report.model import Located, Place, Report, Row, many


def pinned(
    edits: Sequence[FileEdit],
    skipped: Sequence[Skipped],
    unwritten: Sequence[FileEdit],
    *,
    written: bool,
) -> Report:
    changes = [change for edit in edits for change in edit.changes]
    problems = tuple(
        Located(Place.at(u.location), f"{u.written}: {u.message}" if u.written else u.message)
        for edit in edits
        for u in edit.unresolvable
    )
    not_written = {edit.path for edit in unwritten}
    rows: list[Row] = []
    for edit in (e for e in edits if e.edits):
        rows.append(Row(_file_text(edit, edit.path in not_written, written)))
        rows += [Row("", _change_cells(change)) for change in edit.changes]
    files = sum(1 for edit in edits if edit.edits)
    verb = "pinned" if written else "to pin"
    return Report(
        "pin-refs",
        {
            "written": written,
            "changes": [_change_record(change) for change in changes],
            "unresolvable": [
                {**problem.place.record(), "reference": u.written, "message": u.message}
                for problem, u in zip(
                    problems, (u for e in edits for u in e.unresolvable), strict=True
                )
            ],
            "skipped": [{"file": str(s.path), "reason": s.reason} for s in skipped],
            "unwritten": [str(edit.path) for edit in unwritten],
        },
        {
            "files": files,
            "changes": len(changes),
            "unresolvable": len(problems),
            "skipped": len(skipped),
            "unwritten": len(unwritten),
        },
        rows=tuple(rows),
        columns=("place", "written", "tag", "digest"),
        headline=f"{many(len(changes), 'reference')} {verb} in {many(files, 'file')}, "
        f"{len(problems)} unresolvable, {len(skipped)} skipped",
        problems=problems,
        warnings=(*map(str, skipped), *map(str, problems)),
    )


def _file_text(edit: FileEdit, interrupted: bool, written: bool) -> str:
    if interrupted:
        return f"{edit.path}: {len(edit.changes)} references not pinned: interrupted"
    if written:
        return f"{edit.path}: {len(edit.changes)} references pinned"
    return unified_diff(edit).removesuffix("\n")


def _change_cells(change: Change) -> tuple[str, ...]:
    where = change.site.location
    return (
        code(f"{where.file}:{where.line}"),
        code(change.site.written),
        code(change.tag),
        code(change.digest or ""),
    )


def _change_record(change: Change) -> dict[str, Any]:
    site = change.site
    return {
        **Place.at(site.location, site.context or None).record(),
        "from": site.written,
        "tag": change.tag,
        "digest": change.digest,
    }
