"""From decisions to new file contents and a unified diff; the only writes are in ``write``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagmgr.documents.atomic import replace_file
from tagmgr.documents.splice import Edit, splice
from tagmgr.filerefs.walk import File
from tagmgr.pinrefs.pins import Change, Decision, Unresolvable


@dataclass
class FileEdit:
    file: File
    text: str
    changes: list[Change] = field(default_factory=list)
    unresolvable: list[Unresolvable] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def new_text(self) -> str:
        return splice(self.text, self.edits)


def plan_file(file: File, text: str, decisions: Sequence[Decision]) -> FileEdit:
    result = FileEdit(file, text)
    for decision in decisions:
        if isinstance(decision, Unresolvable):
            result.unresolvable.append(decision)
            continue
        edits = decision.site.rewrite(decision.tag, decision.digest)
        if isinstance(edits, str):
            result.unresolvable.append(Unresolvable.at(decision.site, edits))
        else:
            result.changes.append(decision)
            # Two references read from one ARG default make the same edit: it is made once.
            result.edits += [edit for edit in edits if edit not in result.edits]
    return result


def unified_diff(edit: FileEdit) -> str:
    """``diff -u`` of the file; lines keep their own endings, CRLF included."""
    lines = difflib.unified_diff(
        edit.text.splitlines(keepends=True),
        edit.new_text.splitlines(keepends=True),
        f"a/{edit.path}",
        f"b/{edit.path}",
    )
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )


def write(edit: FileEdit) -> None:
    """Replace the file at its real path, the one it was read from (never a link's own path)."""
    replace_file(edit.file.real, edit.new_text.encode("utf-8"))
