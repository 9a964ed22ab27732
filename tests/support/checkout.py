"""A committed git repository holding this checkout's files as they are now, for the tests that
build, install or pre-commit-clone tagmgr the way a user gets it.

Copying (instead of cloning this checkout) takes uncommitted and new files too, so a test sees the
change being made, and leaves the working tree alone: builds write ``build/`` and ``*.egg-info``
beside the sources. Symbolic links stay links, as git keeps them (the packaged schemas are links).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.gitrepos import UpstreamRepo
from tests.support.paths import REPO_ROOT


def snapshot(destination: Path) -> UpstreamRepo:
    """``destination`` as a git repository with one commit: every file git would track here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    repo = UpstreamRepo(destination)
    for name in filter(None, listed.split("\0")):
        source, target = REPO_ROOT / name, destination / name
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the working tree, not yet in git
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)
    repo.git("add", "--all")
    repo.commit("this checkout, as it is now")
    return repo
