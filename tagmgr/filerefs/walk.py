"""Which files pin-refs reads: the paths given, directories walked with .gitignore respected.

``git check-ignore`` decides what is ignored, so nested .gitignore files, .git/info/exclude and
the global excludes count exactly as git counts them (a re-implementation of gitignore matching
would differ at the edges). Outside a git work tree nothing is ignored but .git directories.

What may be written stays inside the paths given. Each path given is a root, its own symlinks
resolved (a link named on the command line means its target). A symlink met in a walk is
followed only to a file inside a root, which is then read and written at its real path, once
however many links lead to it; a linked directory is not walked through (its files are walked
where they are, when that is inside a root). FIFOs, sockets and devices are never opened.
Whatever is left out for one of these reasons is said, never silently dropped.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagmgr.documents.atomic import is_temporary
from tagmgr.documents.textfile import kind
from tagmgr.errors import Location, Problem
from tagmgr.system.process import run

GIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class File:
    """A file to read: ``path`` as reports name it, ``real`` where it is read and written."""

    path: Path
    real: Path


@dataclass(frozen=True)
class Skipped:
    """Something under a path given that is left unread, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: skipped: {self.reason}"


@dataclass
class Collected:
    files: list[File] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class _Root:
    given: Path
    real: Path

    def holds(self, real: Path) -> bool:
        return real == self.real or self.real in real.parents

    def name(self, real: Path) -> Path:
        """``real`` (inside this root) as reached from the path given."""
        return self.given / real.relative_to(self.real)


def collect(paths: Sequence[Path], leave_out: Iterable[Path] = ()) -> Collected:
    """Files named and files under directories named, sorted, ignored ones left out; so are
    the files whose real paths are in ``leave_out`` (the pins' own source)."""
    found = Collected()
    roots = _roots(paths, found.problems)
    files: dict[Path, File] = {}
    for root in roots:
        if root.real.is_dir():
            for entry in _not_ignored(root.given, _walk(root.given, found.skipped)):
                file = _file(entry, root, roots, found.skipped)
                if file is not None:
                    files.setdefault(file.real, file)
        else:
            files.setdefault(root.real, File(root.given, root.real))
    for path in leave_out:
        files.pop(path, None)
    found.files = sorted(files.values(), key=lambda f: f.path)
    return found


def _roots(paths: Sequence[Path], problems: list[Problem]) -> list[_Root]:
    """The paths given, resolved; a problem for each that is no file or directory."""
    roots = []
    for path in paths:
        try:
            real = Path(os.path.realpath(path, strict=True))
            mode = real.stat().st_mode
        except OSError as error:
            problems.append(_problem(path, _broken_link(path, error)))
            continue
        if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
            roots.append(_Root(path, real))
        else:
            problems.append(_problem(path, f"is {kind(mode)}; give a file or a directory"))
    return roots


def _problem(path: Path, message: str) -> Problem:
    return Problem(Location(str(path), 1, 1), "", message)


def _unreachable(error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return "no such file or directory"
    if error.errno == errno.ELOOP:
        return "a symlink loop"
    return f"cannot read: {error.strerror or error}"


def _walk(directory: Path, skipped: list[Skipped]) -> list[Path]:
    """Every entry under ``directory`` that is not a directory (links to one included), sorted;
    not the .git directories, nor tagmgr's own temporary files."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as error:
        skipped.append(Skipped(directory, f"cannot read the directory: {error.strerror}"))
        return []
    found = []
    for entry in entries:
        path = directory / entry.name
        if entry.is_dir(follow_symlinks=False):
            if entry.name != ".git":
                found += _walk(path, skipped)
        elif not is_temporary(entry.name):
            found.append(path)
    return found


def _not_ignored(directory: Path, files: list[Path]) -> list[Path]:
    if not files:
        return []
    relative = [str(f.relative_to(directory)) for f in files]
    completed = run(
        ["git", "-C", str(directory), "check-ignore", "--stdin", "-z"],
        stdin="\0".join(relative).encode() + b"\0",
        timeout=GIT_TIMEOUT,
    )
    if completed.returncode not in (0, 1):  # 128: not in a git work tree
        return files
    ignored = {directory / p for p in completed.stdout.decode().split("\0") if p}
    return [f for f in files if f not in ignored]


def _file(path: Path, root: _Root, roots: list[_Root], skipped: list[Skipped]) -> File | None:
    """What ``path``, met walking ``root``, gives to read; what it does not give is said in
    ``skipped``."""
    try:
        mode = path.lstat().st_mode
    except OSError as error:  # gone meanwhile
        skipped.append(Skipped(path, _unreachable(error)))
        return None
    if stat.S_ISREG(mode):
        return File(path, root.real / path.relative_to(root.given))
    if stat.S_ISLNK(mode):
        return _link(path, roots, skipped)
    skipped.append(Skipped(path, kind(mode)))
    return None


def _link(path: Path, roots: list[_Root], skipped: list[Skipped]) -> File | None:
    """The file a symlink leads to, if it is inside a root; a link to a directory inside a root
    gives nothing and needs no word: that directory is walked where it is."""
    try:
        real = Path(os.path.realpath(path, strict=True))
        mode = real.stat().st_mode
    except OSError as error:
        skipped.append(Skipped(path, _broken_link(path, error)))
        return None
    holder = next((r for r in roots if r.holds(real)), None)
    if holder is None:
        skipped.append(Skipped(path, f"a symlink to {real}, outside the paths given"))
    elif stat.S_ISREG(mode):
        return File(holder.name(real), real)
    elif not stat.S_ISDIR(mode):
        skipped.append(Skipped(path, f"a symlink to {kind(mode)}"))
    return None


def _broken_link(path: Path, error: OSError) -> str:
    """Why ``path`` (a symlink, or what a link in it leads to) cannot be resolved."""
    if error.errno == errno.ENOENT and path.is_symlink():
        return f"a symlink to {os.readlink(path)}, which does not exist"
    return _unreachable(error)
