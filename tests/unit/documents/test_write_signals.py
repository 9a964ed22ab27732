"""Real signals to a real ``tagmgr pin-refs --write`` while it replaces files: no temporary file
is left beside a target by any signal short of SIGKILL, no file is left half-written, and there
is no traceback; what a SIGKILL leaves, the next run removes.

Each run pins a few 3 MB Dockerfiles, so that writing one (and its fsync) takes milliseconds; the
test watches the directory and signals as the first temporary file appears. ``TRIALS`` runs, the
kinds of ending in turn, each run bounded by ``launch.TIMEOUT``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from tagmgr.documents.atomic import STALE_AFTER, is_temporary
from tagmgr.lock import Lock, LockEntry, write_lock
from tagmgr.oci.reference import ImageReference
from tests.support.launch import TIMEOUT, bounded, launch

pytestmark = pytest.mark.slow  # dozens of tagmgr processes, each signalled mid-write

SOURCE = "docker.io/starlingx/k8s-cni-sriov"
BUILD, STABLE = "master-centos-stable-20191203T153530Z.0", "stx.4.0-v2.2"
FILES = 6
PADDING = ("# " + "x" * 1000 + "\n") * 3000  # 3 MB a file
BEFORE = f"FROM {SOURCE}:{BUILD}\n{PADDING}"
AFTER = f"FROM {SOURCE}:{STABLE}\n{PADDING}"
TRIALS = 24
INT, TERM, HUP = signal.SIGINT, signal.SIGTERM, signal.SIGHUP


@dataclass(frozen=True)
class Ending:
    """Signals sent as the first temporary appears; ``acknowledged`` waits for tagmgr's word on
    the first before the second (else both go at once), and ``code`` is the exit expected."""

    signals: tuple[signal.Signals, ...]
    acknowledged: bool
    code: int


ENDINGS = [
    Ending((INT, INT), acknowledged=True, code=130),  # Ctrl-C, then Ctrl-C again
    Ending((TERM, TERM), acknowledged=True, code=143),
    Ending((INT, TERM), acknowledged=False, code=130),  # both while the file is being written
    Ending((HUP,), acknowledged=False, code=-HUP),  # not handled: its default action ends tagmgr
]


@dataclass(frozen=True)
class Trial:
    ending: Ending
    code: int
    out: str
    err: str
    leftovers: list[str]  # hidden files beside the targets once tagmgr is gone
    torn: list[str]  # files that are neither as they were nor pinned


def make_tree(workdir: Path) -> tuple[Path, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    lock = workdir / "tagmgr.lock"
    entry = LockEntry(
        ImageReference.parse(f"{SOURCE}:{BUILD}"),
        ImageReference.parse(f"{SOURCE}:{STABLE}"),
        "sha256:" + "1" * 64,
        "application/vnd.oci.image.index.v1+json",
        "2026-12-01T10:00:00Z",
    )
    write_lock(lock, Lock.of([entry]))
    tree = workdir / "tree"
    tree.mkdir()
    for index in range(FILES):
        (tree / f"app{index}.dockerfile").write_text(BEFORE, encoding="utf-8")
    return lock, tree


def hidden(tree: Path) -> list[str]:
    return sorted(name for name in os.listdir(tree) if name.startswith("."))


def pin_and_signal(
    workdir: Path, ending: Ending, env: dict[str, str] | None = None
) -> Trial | None:
    """One run, ended as ``ending`` says; None if it wrote every file before a signal reached
    it (none was seen in time, or the process was gone when it was sent)."""
    lock, tree = make_tree(workdir)
    process, _, _ = launch(workdir, "pin-refs", "--lock", lock, "--write", tree, env=env)
    with bounded(process):
        said = _signal_on_first_temporary(process, tree, ending)
        out, err = process.communicate(timeout=TIMEOUT)
    if said is None:
        return None
    contents = [path.read_text(encoding="utf-8") for path in sorted(tree.glob("*.dockerfile"))]
    if process.returncode == 0 and set(contents) == {AFTER}:
        return None  # it had written every file and exited as the signal went (a busy machine)
    torn = [text[:60] for text in contents if text not in (BEFORE, AFTER)]
    return Trial(ending, process.returncode, out, said + err, hidden(tree), torn)


def _signal_on_first_temporary(
    process: subprocess.Popen[str], tree: Path, ending: Ending
) -> str | None:
    """Send the ending's signals as a temporary file appears; what tagmgr said meanwhile, or
    None if it was done before one was seen."""
    assert process.stderr is not None
    while not hidden(tree):
        if process.poll() is not None:
            return None
        time.sleep(0.0002)
    said = ""
    for count, signum in enumerate(ending.signals, 1):
        process.send_signal(signum)
        if ending.acknowledged and count < len(ending.signals):
            said += _read_until(process.stderr, f"tagmgr: {signum.name}: ")
    return said


def _read_until(stream: IO[str], start: str) -> str:
    """Lines up to one that starts with ``start``, or to the end."""
    seen = []
    while line := stream.readline():
        seen.append(line)
        if line.startswith(start):
            break
    return "".join(seen)


def trials(workdir: Path, count: int, env: dict[str, str] | None = None) -> list[Trial]:
    """``count`` runs, the endings in turn: the ones that were signalled."""
    done = []
    for index in range(count):
        trial = pin_and_signal(workdir / str(index), ENDINGS[index % len(ENDINGS)], env)
        shutil.rmtree(workdir / str(index))  # 18 MB a run
        if trial is not None:
            done.append(trial)
    return done


def test_no_signal_short_of_sigkill_leaves_a_temporary_or_a_torn_file(tmp_path: Path) -> None:
    done = trials(tmp_path, TRIALS)
    assert len(done) >= TRIALS // 2, "the writes were too quick to be signalled"
    assert [t.leftovers for t in done if t.leftovers] == []
    assert [t.torn for t in done if t.torn] == []
    assert [t.err for t in done if "Traceback" in t.err or "internal error" in t.err] == []
    assert [(t.ending.signals, t.code) for t in done if t.code != t.ending.code] == []


def test_one_signal_lets_the_file_being_written_finish_and_starts_no_other(
    tmp_path: Path,
) -> None:
    done = pin_and_signal(tmp_path, Ending((INT,), acknowledged=False, code=130))
    assert done is not None
    assert (done.code, done.leftovers, done.torn) == (130, [], [])
    files = sorted((tmp_path / "tree").glob("*.dockerfile"))
    pinned = [path.read_text(encoding="utf-8") == AFTER for path in files]
    assert 1 <= sum(pinned) < FILES
    assert pinned == sorted(pinned, reverse=True)  # in order, and none after the signal
    said = {True: "pinned", False: "not pinned: interrupted"}
    assert done.out.splitlines() == [
        f"{path}: 1 references {said[it]}" for path, it in zip(files, pinned, strict=True)
    ]
    assert done.err.endswith("tagmgr: interrupted\n")


def test_what_a_sigkill_leaves_the_next_run_removes(tmp_path: Path) -> None:
    killed = pin_and_signal(tmp_path / "killed", Ending((signal.SIGKILL,), False, -9))
    assert killed is not None
    assert killed.code == -signal.SIGKILL
    [name] = killed.leftovers  # the file being written when the signal came
    assert is_temporary(name), name
    assert name.startswith(".app")
    assert killed.torn == []
    tree = tmp_path / "killed" / "tree"
    left = tree / name
    stale = time.time() - 2 * STALE_AFTER
    os.utime(left, (stale, stale))
    again = run_tagmgr_in(tmp_path / "killed", "pin-refs", "--lock", "tagmgr.lock", "--write", tree)
    assert again.returncode == 0, again.stderr
    assert hidden(tree) == []
    assert {p.read_text(encoding="utf-8") for p in tree.glob("*.dockerfile")} == {AFTER}


def test_a_temporary_in_use_young_or_not_tagmgr_s_is_left_alone(tmp_path: Path) -> None:
    lock, tree = make_tree(tmp_path / "run")
    stale = time.time() - 2 * STALE_AFTER
    names = {
        "in use": ".app0.dockerfile.tagmgr-0123abcd",  # a run writing it, paused
        "young": ".app1.dockerfile.tagmgr-89abcdef",  # created a moment ago, not locked yet
        "not tagmgr's": ".app2.dockerfile.tagmgr-backup",
        "stale": ".app3.dockerfile.tagmgr-deadbeef",
    }
    for key, name in names.items():
        (tree / name).write_text("partial", encoding="utf-8")
        if key != "young":
            os.utime(tree / name, (stale, stale))
    with (tree / names["in use"]).open("rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)
        done = run_tagmgr_in(tmp_path / "run", "pin-refs", "--lock", lock, "--write", tree)
    assert done.returncode == 0, done.stderr
    assert hidden(tree) == sorted(n for k, n in names.items() if k != "stale")


def run_tagmgr_in(workdir: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tagmgr", *map(str, args)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
