"""What pin-refs may read and write under the paths it is given: symlinks in and out of them,
FIFOs, sockets, devices and symlink loops, on real files.

Whatever could block (a FIFO) runs tagmgr as a child process with a time limit, so a regression
fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.documents.textfile import NotRegular, read_bytes
from tagmgr.errors import Problem
from tagmgr.filerefs.find import read_file
from tagmgr.filerefs.walk import collect
from tests.support.e2e import run_tagmgr
from tests.unit.pinrefs.test_pinrefs import COMPOSE, SRIOV_TAG, lock_path, write

__all__ = ["lock_path"]  # the fixture, used by name

PINNED = COMPOSE.replace("starlingx/k8s-cni-sriov   #", f"starlingx/k8s-cni-sriov:{SRIOV_TAG}   #")
QUICK = 20.0  # seconds: far more than a run takes, far less than a blocked one would


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """``tree/values.yaml`` to pin, beside whatever a test adds; the tests run from tmp_path."""
    root = tmp_path / "tree"
    root.mkdir()
    write(root / "values.yaml", COMPOSE)
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield Path("tree")
    finally:
        os.chdir(cwd)


def pin_refs(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``tagmgr pin-refs`` as a child process that must be done within ``QUICK`` seconds."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tagmgr", "pin-refs", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=QUICK,
        check=False,
    )
    assert time.monotonic() - started < QUICK
    return done


def test_a_symlink_out_of_the_tree_is_skipped_and_its_target_left_as_it_was(
    tree: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree.parent / "outside").mkdir()
    outside = write(tree.parent / "outside" / "values.yaml", COMPOSE)
    (tree / "link.yaml").symlink_to("../outside/values.yaml")
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", tree)
    assert (result.code, result.out) == (0, "tree/values.yaml: 1 references pinned\n")
    assert result.err == (
        f"tree/link.yaml: skipped: a symlink to {outside.resolve()}, outside the paths given\n"
    )
    assert outside.read_bytes() == COMPOSE.encode()
    assert os.readlink(tree / "link.yaml") == "../outside/values.yaml"


def test_a_symlink_inside_the_tree_is_followed_and_its_target_edited_once(
    tree: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Helm charts that share one values file: each link leads to it, the file changes once,
    is reported under its own name, and each link stays a link."""
    write(tree / "shared.yaml", COMPOSE)
    for chart in ("a", "b"):
        (tree / chart).mkdir()
        (tree / chart / "values.yaml").symlink_to("../shared.yaml")
    (tree / "alias").symlink_to("a")  # a linked directory inside: walked where it is
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", tree)
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "tree/shared.yaml: 1 references pinned\ntree/values.yaml: 1 references pinned\n"
    )
    assert (tree / "shared.yaml").read_text() == PINNED
    for chart in ("a", "b"):
        assert os.readlink(tree / chart / "values.yaml") == "../shared.yaml"


def test_a_symlinked_directory_out_of_the_tree_is_not_walked(
    tree: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = tree.parent / "common"
    common.mkdir()
    write(common / "values.yaml", COMPOSE)
    (tree / "common").symlink_to("../common")
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", tree)
    assert result.code == 0
    assert (
        result.err
        == f"tree/common: skipped: a symlink to {common.resolve()}, outside the paths given\n"
    )
    assert (common / "values.yaml").read_text() == COMPOSE


def test_a_symlink_named_on_the_command_line_is_followed_and_kept(
    tree: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    named = tree.parent / "named.yaml"
    named.symlink_to("tree/values.yaml")
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", named.name)
    assert (result.code, result.out, result.err) == (0, "named.yaml: 1 references pinned\n", "")
    assert (tree / "values.yaml").read_text() == PINNED
    assert named.is_symlink()


def test_a_fifo_in_a_tree_is_skipped_at_once_and_one_named_is_refused(
    tree: Path, lock_path: Path
) -> None:
    os.mkfifo(tree / "pipe")
    walked = pin_refs("--lock", lock_path, "--write", tree)
    assert (walked.returncode, walked.stdout) == (0, "tree/values.yaml: 1 references pinned\n")
    assert walked.stderr == "tree/pipe: skipped: a FIFO (named pipe)\n"
    named = pin_refs("--lock", lock_path, tree / "pipe")
    assert (named.returncode, named.stdout) == (1, "")
    assert named.stderr == "tree/pipe:1:1: is a FIFO (named pipe); give a file or a directory\n"


def test_a_socket_and_a_device_are_never_opened(
    tree: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tree / "daemon.sock"))
        (tree / "null").symlink_to("/dev/null")
        (tree / "dev").mkdir()
        (tree / "dev" / "null").symlink_to("../null")
        walked = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--dry-run", tree)
        named = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, tree / "daemon.sock")
        device = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "/dev/null")
    assert walked.code == 0
    assert walked.err == (
        "tree/daemon.sock: skipped: a socket\n"
        "tree/dev/null: skipped: a symlink to /dev/null, outside the paths given\n"
        "tree/null: skipped: a symlink to /dev/null, outside the paths given\n"
        "tagmgr: dry run: nothing was changed\n"
    )
    assert (named.code, named.err) == (
        1,
        "tree/daemon.sock:1:1: is a socket; give a file or a directory\n",
    )
    assert (device.code, device.err) == (
        1,
        "/dev/null:1:1: is a character device; give a file or a directory\n",
    )


def test_symlink_loops_are_named_not_a_crash(
    tree: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "self").symlink_to("self")
    (tree / "ping").symlink_to("pong")
    (tree / "pong").symlink_to("ping")
    (tree / "up").symlink_to(".")  # a directory loop: not walked through
    (tree / "gone").symlink_to("nowhere")
    walked = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", tree)
    assert (walked.code, walked.out) == (0, "tree/values.yaml: 1 references pinned\n")
    assert walked.err == (
        "tree/gone: skipped: a symlink to nowhere, which does not exist\n"
        "tree/ping: skipped: a symlink loop\n"
        "tree/pong: skipped: a symlink loop\n"
        "tree/self: skipped: a symlink loop\n"
    )
    named = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, tree / "self", tree / "gone")
    assert (named.code, named.out) == (1, "")
    assert named.err == (
        "tree/gone:1:1: a symlink to nowhere, which does not exist\ntree/self:1:1: a symlink loop\n"
    )


def test_a_file_that_became_a_fifo_after_it_was_found_is_not_waited_on(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race between looking and opening: the file looks regular, but what is opened is a
    FIFO with no writer. It is opened without blocking and refused on what the descriptor says."""
    [found] = collect([tree]).files
    (tree / "values.yaml").unlink()
    os.mkfifo(tree / "values.yaml")
    regular = os.stat(tree.parent)  # any stat result, made to say "regular file"
    looks_regular = os.stat_result((stat.S_IFREG | 0o644, *regular[1:]))
    outcome: list[object] = []

    def read() -> None:
        text = read_file(str(found.real), follow=False)
        outcome.append(text.message if isinstance(text, Problem) else text)

    with monkeypatch.context() as patched:
        patched.setattr(os, "lstat", lambda path: looks_regular)
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(QUICK)
    if reader.is_alive():  # blocked in open(): give it a writer so the test can end
        with open(tree / "values.yaml", "wb"):
            pass
        reader.join()
    assert outcome == ["is a FIFO (named pipe), not a regular file"]


def test_read_bytes_refuses_a_symlink_when_told_not_to_follow(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("x")
    (tmp_path / "link").symlink_to("target")
    assert read_bytes(str(tmp_path / "link"), 10) == b"x"
    with pytest.raises(NotRegular) as refused:
        read_bytes(str(tmp_path / "link"), 10, follow=False)
    assert refused.value.kind == "a symlink"
