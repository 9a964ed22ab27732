"""The pre-commit hook as a user gets it: ``pre-commit try-repo`` on a git repository of this
checkout, with no tagmgr anywhere on PATH, so the hook works only if pre-commit installs tagmgr
itself (``language: python``) from the repository at the revision it was given.

try-repo installs the hook's environment afresh in a temporary store on every run (whatever
PRE_COMMIT_HOME says): tagmgr built from the repository, its dependencies resolved by pip. They
come from the session's wheelhouse (see ``conftest``) with no index and no network, which keeps an
install at 10 to 20 s here; the two runs go side by side, each bounded.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepos import ISOLATED_ENV, UpstreamRepo
from tests.unit.manifest.test_load import STARLINGX

pytestmark = pytest.mark.integration

BAD = "images:\n- name: docker.io/a/b\n  src_build_tag: b1\n  tag: 1.10\n"
TIMEOUT = 300  # an environment install on a loaded machine


@pytest.fixture
def project(tmp_path: Path) -> UpstreamRepo:
    """A project with a good and a bad manifest, and a YAML file the hook must not look at."""
    project = UpstreamRepo(tmp_path / "project")
    (project.path / "manifests").mkdir()
    (project.path / "manifests" / "good.yaml").write_text(STARLINGX, encoding="utf-8")
    (project.path / "manifests" / "bad.yaml").write_text(BAD, encoding="utf-8")
    (project.path / "notes.yaml").write_text("not: [a, manifest\n", encoding="utf-8")
    project.git("add", "--all")
    return project


def test_try_repo_installs_tagmgr_itself_passes_the_good_and_locates_the_bad(
    source_checkout: UpstreamRepo,
    project: UpstreamRepo,
    wheelhouse: dict[str, str],
    tmp_path: Path,
) -> None:
    env = sanitised_environment(tmp_path, wheelhouse)
    assert shutil.which("tagmgr", path=env["PATH"]) is None

    def try_repo(*files: str) -> subprocess.Popen[str]:
        hook = (str(source_checkout.path), "tagmgr-validate")
        return subprocess.Popen(
            [sys.executable, "-m", "pre_commit", "try-repo", "--color=never", *hook, *files],
            cwd=project.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    # Side by side: each spends most of its time waiting for the package index.
    runs = [try_repo("--files", "manifests/good.yaml", "notes.yaml"), try_repo("--all-files")]
    try:
        good, both = (finished(run) for run in runs)
    finally:
        for run in runs:
            run.kill()  # only one the timeout struck: a finished process ignores it
            run.wait()
    assert good.returncode == 0, good.stdout
    assert f"rev: {source_checkout.head()}" in good.stdout
    assert "Installing environment for" in good.stdout
    assert "tagmgr validate" in good.stdout
    assert "Passed" in good.stdout

    assert both.returncode == 1, both.stdout
    assert "Failed" in both.stdout
    assert (
        'manifests/bad.yaml:4:8: images[0].tag: YAML reads 1.10 as a number (1.1); quote it: "1.10"'
    ) in both.stdout
    assert "good.yaml" not in both.stdout
    assert "notes.yaml" not in both.stdout


def sanitised_environment(tmp_path: Path, wheelhouse: dict[str, str]) -> dict[str, str]:
    """A new environment, not this one: git's directory alone on PATH, an empty HOME, and pip
    pointed at the wheelhouse."""
    git = shutil.which("git")
    assert git is not None
    (tmp_path / "home").mkdir()
    return {
        **ISOLATED_ENV,
        **wheelhouse,
        "PATH": str(Path(git).parent),
        "HOME": str(tmp_path / "home"),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        # Bytecode of every dependency was 40 % of an install; the hook compiles what it imports.
        "PIP_NO_COMPILE": "1",
    }


def finished(run: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, _ = run.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(run.args, run.returncode, out)
