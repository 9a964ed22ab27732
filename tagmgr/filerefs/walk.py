"""Which files pin-refs reads: the paths given, directories walked with .gitignore respected.

``git check-ignore`` decides what is ignored, so nested .gitignore files, .git/info/exclude and
the global excludes count exactly as git counts them (a re-implementation of gitignore matching
would differ at the edges). Outside a git work tree nothing is ignored but .git directories.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tagmgr.errors import Location, Problem
from tagmgr.system.process import run

GIT_TIMEOUT = 60.0


def collect(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Files named and files under directories named, sorted, ignored ones left out."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files += _not_ignored(path, _walk(path))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(Location(str(path), 1, 1), "", "no such file or directory"))
    return sorted(dict.fromkeys(files)), problems


def _walk(directory: Path) -> list[Path]:
    found = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        found += [Path(root) / name for name in names]
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
