"""pin-refs in work linear in its input (issue 21: a 0.6 MB text file took 10 s, 1.2 MB 57 s).

The figures are `make bench`'s (scripts/bench_pinrefs.py). Here, without a clock: the diff made
from the edits' spans is the one difflib makes; the Python work at twice the input is twice the
work; and a file of every kind at the size cap is read, planned, diffed and spliced by a process
that a generous bound, far below what the quadratic reading took, lets finish.
"""

from __future__ import annotations

import difflib
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tagmgr.documents.splice import Edit
from tagmgr.filerefs.find import find_references
from tagmgr.filerefs.walk import File
from tagmgr.oci.reference import ImageReference
from tagmgr.pinrefs.edit import FileEdit, unified_diff
from tagmgr.pinrefs.pins import Pin, PinTable
from tagmgr.pinrefs.plan import plan_pins

NAMES = 50
LINES = {
    "notes.txt": "run registry.example/team/app{m}:build-1 now\n",
    "values.yaml": "c{n}:\n  image: registry.example/team/app{m}:build-1\n",
    "Dockerfile": "FROM registry.example/team/app{m}:build-1 AS s{n}\n",
}


def difflib_diff(edit: FileEdit) -> str:
    lines = difflib.unified_diff(
        edit.text.splitlines(keepends=True),
        edit.new_text.splitlines(keepends=True),
        f"a/{edit.path}",
        f"b/{edit.path}",
    )
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )


def random_edit(rng: random.Random) -> FileEdit:
    """Numbered lines (so no two alike), some words replaced, lines inserted at a line's start
    or the end; CRLF, a missing last newline, edits on neighbouring lines."""
    ending = rng.choice(["\n", "\r\n"])
    lines = [f"line {n} word{n} tail{ending}" for n in range(rng.randint(0, 40))]
    text = "".join(lines)
    if text and rng.random() < 0.3:
        text = text.rstrip("\r\n")
    starts = [sum(map(len, lines[:n])) for n in range(len(lines))]
    edits: list[Edit] = []
    for n, start in enumerate(starts):
        if rng.random() < 0.3:
            word = start + len(f"line {n} ")
            edits.append(Edit(word, word + len(f"word{n}"), f"new{n}"))
        elif rng.random() < 0.1:
            edits.append(Edit(start, start, f"  added before {n}{ending}"))
    if rng.random() < 0.2:
        edits.append(Edit(len(text), len(text), f"{ending}appended"))
    return FileEdit(File(Path("f"), Path("f")), text, edits=edits)


def test_the_diff_is_the_one_difflib_makes() -> None:
    rng = random.Random(21)  # noqa: S311 - test data, the same every run
    for _ in range(500):
        edit = random_edit(rng)
        assert unified_diff(edit) == difflib_diff(edit), edit


def pins() -> PinTable:
    return PinTable(
        Pin.of(
            ImageReference.parse(f"registry.example/team/app{n}:1.0"),
            ImageReference.parse(f"registry.example/team/app{n}:build-1"),
            None,
        )
        for n in range(NAMES)
    )


def pin(name: str, lines: int) -> FileEdit:
    text = "".join(LINES[name].format(n=n, m=n % NAMES) for n in range(lines))
    refs = find_references(name, text)
    (edit,) = plan_pins([(File(Path(name), Path(name)), refs)], pins(), with_digest=False)
    assert len(edit.changes) == lines
    return edit


def python_calls(name: str, lines: int) -> int:
    """Function calls, Python's and C's, to find, plan, diff and splice the file."""
    counts: Counter[str] = Counter()
    sys.setprofile(lambda _frame, event, _arg: counts.update([event]))
    try:
        edit = pin(name, lines)
        unified_diff(edit)
        _ = edit.new_text
    finally:
        sys.setprofile(None)
    return counts["call"] + counts["c_call"]


@pytest.mark.parametrize("name", sorted(LINES))
def test_twice_the_references_twice_the_calls(name: str) -> None:
    """Comparing each edit with every one before it (a list's ``in``) was a call per pair."""
    small, large = python_calls(name, 1_000), python_calls(name, 2_000)
    assert large / small < 2.1


@pytest.mark.slow  # one tagmgr process pinning 212,000 references: seconds, not milliseconds
def test_a_file_at_the_size_cap_of_each_kind_is_pinned_within_a_generous_bound(
    tmp_path: Path,
) -> None:
    """Before, these took minutes to hours (text: 3.7 MB, 49 s with far fewer edits)."""
    for name, lines in (("notes.txt", 84_000), ("values.yaml", 64_000), ("Dockerfile", 64_000)):
        path = tmp_path / name
        path.write_text("".join(LINES[name].format(n=n, m=n % NAMES) for n in range(lines)))
    manifest = tmp_path / "pins.yaml"
    entries = (
        f"- name: registry.example/team/app{n}\n  src_build_tag: build-1\n  tag: '1.0'\n"
        for n in range(NAMES)
    )
    manifest.write_text("images:\n" + "".join(entries))
    argv = [sys.executable, "-m", "tagmgr", "pin-refs", "--manifest", str(manifest)]
    done = subprocess.run(
        [*argv, str(tmp_path), "--write"], capture_output=True, text=True, timeout=240, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert sorted(done.stdout.splitlines()) == [
        f"{tmp_path / 'Dockerfile'}: 64000 references pinned",
        f"{tmp_path / 'notes.txt'}: 84000 references pinned",
        f"{tmp_path / 'values.yaml'}: 64000 references pinned",
    ]
    assert (tmp_path / "notes.txt").read_text().count(":1.0 now\n") == 84_000
