"""Writing a pinned file: only over the text that was read and planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagmgr.commands.pinrefs import _write
from tagmgr.documents.splice import Edit
from tagmgr.errors import TagmgrError
from tagmgr.filerefs.walk import File
from tagmgr.pinrefs.edit import FileEdit, write
from tagmgr.report.pinrefs import pinned

READ = "image: team/app:build-1\n"


def planned(path: Path) -> FileEdit:
    return FileEdit(File(path, path), READ, edits=[Edit(16, 23, "v1")])


def test_the_file_as_it_was_read_is_written(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(READ)
    write(planned(path))
    assert path.read_text() == "image: team/app:v1\n"


def test_a_file_edited_since_it_was_read_is_not_written_over(tmp_path: Path) -> None:
    """The question may wait for minutes, and an editor may save meanwhile."""
    path = tmp_path / "deploy.yaml"
    path.write_text(READ)
    edit = planned(path)
    path.write_text("image: team/app:build-2\n")
    with pytest.raises(TagmgrError, match="changed since it was read"):
        write(edit)
    assert path.read_text() == "image: team/app:build-2\n"


def test_a_file_replaced_by_a_link_meanwhile_is_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(READ)
    tree = tmp_path / "tree"
    tree.mkdir()
    path = tree / "deploy.yaml"
    path.write_text(READ)
    edit = planned(path)
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(TagmgrError, match="is a symlink, not a regular file; not written"):
        write(edit)
    assert outside.read_text() == READ


def test_a_file_that_cannot_be_written_is_reported_with_why_and_the_others_are_written(
    tmp_path: Path,
) -> None:
    """pin-refs writes on past a file it must not write, and says which and why, in every format."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for path in (first, second):
        path.write_text(READ)
    edits = [planned(first), planned(second)]
    first.write_text("image: team/app:build-2\n")
    unwritten = _write(edits)
    assert unwritten == {first: "changed since it was read; not written (run pin-refs again)"}
    assert second.read_text() == "image: team/app:v1\n"
    report = pinned(edits, [], unwritten, written=True)
    assert [str(problem) for problem in report.problems] == [
        f"{first}: changed since it was read; not written (run pin-refs again)"
    ]
    assert report.rows[0].text == (
        f"{first}: 0 references not pinned: changed since it was read; not written (run pin-refs"
        " again)"
    )
