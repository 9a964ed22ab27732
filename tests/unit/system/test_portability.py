"""Off Linux (macOS, where the pre-commit hook runs on developers' laptops) there is no
``os.pipe2`` and no ``prctl``: tagmgr, started in an interpreter that lacks both, validates and
describes as on Linux."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepos import UpstreamRepo, isolate_git

# Take os.pipe2 away, and prctl from the C library, before tagmgr is imported; then run it.
WITHOUT_LINUX = """
import ctypes, os, sys
del os.pipe2
Library = ctypes.CDLL

class WithoutPrctl(Library):
    def __getattr__(self, name):
        if name == "prctl":
            raise AttributeError(name)
        return super().__getattr__(name)

ctypes.CDLL = WithoutPrctl
from tagmgr.cli import main
sys.exit(main(sys.argv[1:]))
"""


def tagmgr_without_linux(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_LINUX, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_validate_and_describe_need_no_linux_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch)
    upstream = UpstreamRepo(tmp_path / "upstream")
    upstream.commit("one")
    upstream.tag("v1.0")
    tip = upstream.commit("two")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "images:\n- name: 127.0.0.1:5000/x/app\n  src_build_tag: b1\n"
        f"  upstream: {{repo: ./upstream, commit: {tip}}}\n  tag: r-{{describe}}\n",
        encoding="utf-8",
    )
    validated = tagmgr_without_linux("validate", str(manifest))
    assert (validated.returncode, validated.stdout) == (0, f"{manifest}: ok (1 images)\n")
    cache = f"--git-cache={tmp_path / 'cache'}"
    described = tagmgr_without_linux("describe", "-v", cache, str(manifest))
    assert described.returncode == 0, described.stderr
    assert described.stdout == (
        f"127.0.0.1:5000/x/app:r-v1.0-1-g{tip[:7]}  (git describe: v1.0-1-g{tip[:7]})\n"
    )
    assert described.stderr == (
        "tagmgr: INFO: this system has no parent-death signal (Linux's PR_SET_PDEATHSIG): a"
        " program tagmgr runs keeps running if tagmgr is killed with SIGKILL\n"
    )
