"""From decisions to new file contents and a unified diff; the only writes are in ``write``."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from tagmgr.documents.atomic import replace_file
from tagmgr.documents.splice import Edit, splice
from tagmgr.errors import Problem, TagmgrError
from tagmgr.filerefs.find import read_file
from tagmgr.filerefs.walk import File
from tagmgr.pinrefs.pins import Change, SiteDecision, Unresolvable


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


def plan_file(file: File, text: str, decisions: Sequence[SiteDecision]) -> FileEdit:
    planned: list[Unresolvable | tuple[Change, list[Edit]]] = []
    made: set[Edit] = set()
    for decision in decisions:
        if isinstance(decision, Unresolvable):
            planned.append(decision)
            continue
        edits = decision.site.rewrite(decision.tag, decision.digest)
        if isinstance(edits, str):
            planned.append(Unresolvable.at(decision.site, edits))
        else:
            planned.append((decision, list(edits)))
    mixed = _mixed(planned)
    result = FileEdit(file, text)
    for index, item in enumerate(planned):
        if isinstance(item, Unresolvable):
            result.unresolvable.append(item)
        elif index in mixed:
            result.unresolvable.append(Unresolvable.at(item[0].site, _MIXED))
        else:
            result.changes.append(item[0])
            # Two references read from one ARG default (or one YAML anchor) make the same edit:
            # it is made once.
            result.edits += [edit for edit in item[1] if edit not in made]
            made.update(item[1])
    return result


_MIXED = "its text is also another reference's, which would get another value; edit it by hand"


_Span = tuple[int, int, str, int]  # start, end, new text, which change


def _mixed(planned: Sequence[Unresolvable | tuple[Change, list[Edit]]]) -> set[int]:
    """The changes whose edits touch the same characters as a different edit: spliced, the two
    would mix (``documents.splice`` takes edits that do not overlap). Edits that overlap form a
    run; a run of one edit made by several changes is fine. One sort, one sweep."""
    spans = sorted(
        (edit.start, edit.end, edit.text, index)
        for index, item in enumerate(planned)
        if not isinstance(item, Unresolvable)
        for edit in item[1]
    )
    mixed: set[int] = set()
    for run in _overlapping_runs(spans):
        if len({span[:3] for span in run}) > 1:
            mixed |= {span[3] for span in run}
    return mixed


def _overlapping_runs(spans: list[_Span]) -> Iterator[list[_Span]]:
    """Spans sorted by start, in runs: each span overlaps one before it in its run."""
    run: list[_Span] = []
    reach = -1  # the furthest end in the run
    for span in spans:
        if run and span[0] >= reach:
            yield run
            run = []
        reach = max(reach, span[1]) if run else span[1]
        run.append(span)
    if run:
        yield run


def unified_diff(edit: FileEdit) -> str:
    """``diff -u`` of the file; lines keep their own endings, CRLF included.

    Made from the edits' own spans, in one pass over the file: a diff that matches the two texts
    line by line (difflib) grows with the square of the lines when many of them change or look
    alike, as in a large values file.
    """
    old = edit.text.splitlines(keepends=True)
    hunks = _hunks(_changes(edit.text, old, edit.edits))
    if not hunks:
        return ""
    lines = [f"--- a/{edit.path}\n", f"+++ b/{edit.path}\n"]
    shift = 0  # lines the changes before this hunk added (less those they removed)
    for hunk in hunks:
        lines += _hunk_lines(old, hunk, shift)
        shift += sum(len(new) - (end - start) for start, end, new in hunk)
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )


_Change = tuple[int, int, list[str]]  # old lines [start, end) become these new lines
CONTEXT = 3  # unchanged lines shown around a change, as diff -u shows


def _changes(text: str, old: list[str], edits: Sequence[Edit]) -> list[_Change]:
    """The changed lines in order, neighbours as one change: each run of lines that edits
    touch, edited, less the lines it begins or ends with that stay as they were."""
    starts = list(accumulate(map(len, old), initial=0))
    changes: list[_Change] = []
    for first, last, run in _runs(starts, len(old), edits):
        end, base = min(last, len(old)), starts[first]
        moved = [Edit(e.start - base, e.end - base, e.text) for e in run]
        new = splice(text[base : starts[end]], moved).splitlines(keepends=True)
        same = _common(old[first:end], new)
        tail = _common(old[first + same : end][::-1], new[same:][::-1])
        start, stop, lines = first + same, end - tail, new[same : len(new) - tail]
        if start == stop and not lines:
            continue
        if changes and changes[-1][1] == start:
            changes[-1][2].extend(lines)
            changes[-1] = (changes[-1][0], stop, changes[-1][2])
        else:
            changes.append((start, stop, lines))
    return changes


def _runs(
    starts: list[int], count: int, edits: Sequence[Edit]
) -> Iterator[tuple[int, int, list[Edit]]]:
    """The lines ``[first, last)`` each edit touches (none, for whole lines put before a
    line), edits that share a line together."""

    def line_of(offset: int) -> int:  # the end of the text is on the last line
        return max(bisect_right(starts, offset, hi=count) - 1, 0)

    run: tuple[int, int, list[Edit]] | None = None
    for each in sorted(edits, key=lambda e: e.start):
        first = line_of(each.start)
        if each.start == each.end == starts[first] and _ends_a_line(each.text):
            last = first
        else:
            last = line_of(max(each.start, each.end - 1)) + 1
        if run is not None and (first < run[1] or first == last == run[0] == run[1]):
            run[2].append(each)
            run = (run[0], max(run[1], last), run[2])
            continue
        if run is not None:
            yield run
        run = (first, last, [each])
    if run is not None:
        yield run


def _ends_a_line(text: str) -> bool:
    return bool(text) and text.splitlines()[-1] != text.splitlines(keepends=True)[-1]


def _common(a: Sequence[str], b: Sequence[str]) -> int:
    """How many lines ``a`` and ``b`` begin with alike."""
    count = 0
    while count < min(len(a), len(b)) and a[count] == b[count]:
        count += 1
    return count


def _hunks(changes: list[_Change]) -> list[list[_Change]]:
    """Changes closer than twice the context share a hunk."""
    hunks: list[list[_Change]] = []
    for change in changes:
        if hunks and change[0] - hunks[-1][-1][1] <= 2 * CONTEXT:
            hunks[-1].append(change)
        else:
            hunks.append([change])
    return hunks


def _hunk_lines(old: list[str], hunk: list[_Change], shift: int) -> list[str]:
    """The hunk's header, then its context, removed and added lines; ``shift``: the new file's
    line numbers less the old's at its start."""
    begin, end = max(hunk[0][0] - CONTEXT, 0), min(hunk[-1][1] + CONTEXT, len(old))
    added = sum(len(new) - (stop - start) for start, stop, new in hunk)
    header = f"@@ -{_range(begin, end - begin)} +{_range(begin + shift, end - begin + added)} @@\n"
    lines, at = [header], begin
    for start, stop, new in hunk:
        lines += [f" {line}" for line in old[at:start]]
        lines += [f"-{line}" for line in old[start:stop]]
        lines += [f"+{line}" for line in new]
        at = stop
    return lines + [f" {line}" for line in old[at:end]]


def _range(start: int, length: int) -> str:
    """A hunk's side as unified diffs write it: 1-based first line and count, the count left
    out when 1; an empty side names the line before it."""
    if length == 1:
        return str(start + 1)
    return f"{start + (1 if length else 0)},{length}"


def write(edit: FileEdit) -> None:
    """Replace the file at its real path, the one it was read from (never a link's own path),
    once it is read again as it was: a file edited since the scan (while the question waited,
    say), or replaced by a link, is not written over. The error does not name the file: its
    caller reports it by the file."""
    now = read_file(str(edit.file.real), follow=False)
    if now != edit.text:
        why = f"{now.message}; " if isinstance(now, Problem) else "changed since it was read; "
        raise TagmgrError(f"{why}not written (run pin-refs again)")
    replace_file(edit.file.real, edit.new_text.encode("utf-8"))
