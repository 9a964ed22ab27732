"""What pin-refs does with the references the finder found, decided without I/O: what each
reference becomes, and the exit code.

Which files it reads is the walk's (``filerefs.walk.collect``, the pins' own sources left out).
A place the finder cannot read is unresolvable (exit 1), as an unknown tag is; a template
expression (``{{ .Values.image }}``) is not: the chart's values, which pin-refs reads too, are
where its image is pinned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tagmgr import exitcodes
from tagmgr.filerefs.site import FileRefs
from tagmgr.filerefs.walk import File
from tagmgr.pinrefs.edit import FileEdit, plan_file
from tagmgr.pinrefs.pins import PinTable, SiteDecision, Unresolvable


def plan_pins(
    found: Iterable[tuple[File, FileRefs]], table: PinTable, *, with_digest: bool
) -> list[FileEdit]:
    """The edit of each file with something to change or to report."""
    edits = []
    for file, refs in found:
        decisions = _decisions(refs, table, with_digest=with_digest)
        if decisions:
            edits.append(plan_file(file, refs.text, decisions))
    return edits


def _decisions(refs: FileRefs, table: PinTable, *, with_digest: bool) -> list[SiteDecision]:
    decisions: list[SiteDecision] = [
        decision
        for site in refs.references
        if (decision := table.decide(site, with_digest=with_digest)) is not None
    ]
    decisions += [
        Unresolvable(u.location, u.written, u.reason) for u in refs.unreadable if not u.template
    ]
    return sorted(decisions, key=lambda d: _location(d)[1:])


def _location(decision: SiteDecision) -> tuple[str, int, int]:
    where = decision.location if isinstance(decision, Unresolvable) else decision.site.location
    return (where.file, where.line, where.column)


def changed(edits: Sequence[FileEdit]) -> list[FileEdit]:
    return [edit for edit in edits if edit.edits]


def exit_code(edits: Sequence[FileEdit]) -> int:
    """1 when anything is unresolvable, else 0; what a change not made exits with is the
    confirmation's to say (``tagmgr.commands.confirm``)."""
    return exitcodes.FAILURE if any(edit.unresolvable for edit in edits) else exitcodes.OK
