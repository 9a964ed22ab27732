"""The pre-commit hook, run by pre-commit itself on a throwaway repository.

The hook repository is a fresh git repository holding this checkout's .pre-commit-hooks.yaml,
so the test needs neither a committed checkout nor any network: the hook runs the tagmgr on
PATH (this virtualenv's), and pre-commit clones the hook repository from a local path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepos import ISOLATED_ENV, UpstreamRepo
from tests.support.paths import REPO_ROOT as ROOT
from tests.unit.manifest.test_load import STARLINGX

BAD = "images:\n- name: docker.io/a/b\n  src_build_tag: b1\n  tag: 1.10\n"


@pytest.fixture
def hook_repository(tmp_path: Path) -> tuple[Path, str]:
    hooks = UpstreamRepo(tmp_path / "hooks")
    hooks.commit_file(".pre-commit-hooks.yaml", (ROOT / ".pre-commit-hooks.yaml").read_text())
    return hooks.path, hooks.head()


def test_pre_commit_passes_the_good_manifest_and_stops_the_bad_one(
    tmp_path: Path, hook_repository: tuple[Path, str]
) -> None:
    hooks, rev = hook_repository
    project = UpstreamRepo(tmp_path / "project")
    (project.path / "manifests").mkdir()
    (project.path / "manifests" / "good.yaml").write_text(STARLINGX, encoding="utf-8")
    (project.path / "manifests" / "bad.yaml").write_text(BAD, encoding="utf-8")
    (project.path / "notes.yaml").write_text("not: [a, manifest\n", encoding="utf-8")
    (project.path / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: tagmgr-validate\n",
        encoding="utf-8",
    )
    project.git("add", "--all")

    good = pre_commit(project.path, tmp_path, "--files", "manifests/good.yaml", "notes.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "tagmgr validate" in good.stdout
    assert "Passed" in good.stdout

    both = pre_commit(project.path, tmp_path, "--all-files")
    assert both.returncode == 1, both.stdout + both.stderr
    assert "Failed" in both.stdout
    assert (
        'manifests/bad.yaml:4:8: images[0].tag: YAML reads 1.10 as a number (1.1); quote it: "1.10"'
    ) in both.stdout
    assert "good.yaml" not in both.stdout
    assert "notes.yaml" not in both.stdout


def pre_commit(project: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **ISOLATED_ENV,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color=never", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
