"""The report of ``pin-refs``: each change at its place, what cannot be pinned, what was left.

Text is a unified diff of each file that would change (or, once confirmed, a line per file
written); what was skipped and what cannot be pinned also go to stderr, whatever the format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tagmgr.filerefs.walk import Skipped
from tagmgr.pinrefs.edit import FileEdit, unified_diff
from tagmgr.pinrefs.pins import Change, Unresolvable
from tagmgr.report.markdown import code
from tagmgr.report.model import Located, Place, Report, Row, many

INTERRUPTED = "interrupted"
"""Why a file is unwritten when a signal asked pin-refs to stop before it."""


def pinned(
    edits: Sequence[FileEdit],
    skipped: Sequence[Skipped],
    unwritten: Mapping[Path, str],
    *,
    written: bool,
    diff: bool = True,
) -> Report:
    """``unwritten``: each file left unwritten, and why (``INTERRUPTED``, or what stopped its
    write, which is a problem too). ``diff``: show the diff of what is not written in text (False
    when a person was shown it already, on the terminal, and said no)."""
    changes = [change for edit in edits for change in edit.changes]
    unresolvable = [(u, _unresolvable_problem(u)) for edit in edits for u in edit.unresolvable]
    failed = [
        Located(Place(str(path)), why) for path, why in unwritten.items() if why != INTERRUPTED
    ]
    problems = (*(problem for _, problem in unresolvable), *failed)
    files = sum(1 for edit in edits if edit.edits)
    verb = "pinned" if written else "to pin"
    return Report(
        "pin-refs",
        _record(changes, unresolvable, skipped, unwritten, written=written),
        {
            "files": files,
            "changes": len(changes),
            "unresolvable": len(problems),
            "skipped": len(skipped),
            "unwritten": len(unwritten),
        },
        rows=_rows(edits, unwritten, written, diff),
        columns=("place", "written", "tag", "digest"),
        headline=f"{many(len(changes), 'reference')} {verb} in {many(files, 'file')}, "
        f"{len(problems)} unresolvable, {len(skipped)} skipped",
        problems=problems,
        warnings=(*map(str, skipped), *map(str, problems)),
    )


def _record(
    changes: Sequence[Change],
    unresolvable: Sequence[tuple[Unresolvable, Located]],
    skipped: Sequence[Skipped],
    unwritten: Mapping[Path, str],
    *,
    written: bool,
) -> dict[str, Any]:
    return {
        "written": written,
        "changes": [_change_record(change) for change in changes],
        "unresolvable": [
            {**problem.place.record(), "reference": u.written, "message": u.message}
            for u, problem in unresolvable
        ],
        "skipped": [{"file": str(s.path), "reason": s.reason} for s in skipped],
        "unwritten": [str(path) for path in unwritten],
    }


def _unresolvable_problem(u: Unresolvable) -> Located:
    return Located(Place.at(u.location), f"{u.written}: {u.message}" if u.written else u.message)


def _rows(
    edits: Sequence[FileEdit], unwritten: Mapping[Path, str], written: bool, diff: bool
) -> tuple[Row, ...]:
    """A row per changed file (its diff, or what became of it), then one per change in it."""
    rows: list[Row] = []
    for edit in (e for e in edits if e.edits):
        rows.append(Row(_file_text(edit, unwritten.get(edit.path), written, diff)))
        rows += [Row("", _change_cells(change)) for change in edit.changes]
    return tuple(rows)


def _file_text(edit: FileEdit, unwritten: str | None, written: bool, diff: bool) -> str:
    if unwritten is not None:
        return f"{edit.path}: {len(edit.changes)} references not pinned: {unwritten}"
    if written:
        return f"{edit.path}: {len(edit.changes)} references pinned"
    return unified_diff(edit).removesuffix("\n") if diff else ""


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
