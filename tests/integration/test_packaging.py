"""tagmgr installed as a user installs it: ``python -m build`` makes a wheel and an sdist, and each
installs into a fresh virtual environment and runs there, schemas included.

The fresh environments borrow tagmgr's dependencies: the package goes in with ``pip install
--no-deps``, and a ``.pth`` line puts this virtualenv's site-packages after the fresh one's. Those
dependencies are exactly the ones pyproject.toml names (this virtualenv was installed from it, and
the wheel's metadata is checked against it below), and what packaging can break (a module or data
file left out, a schema link not followed, the entry point) is all in what is installed. That
keeps each install at seconds; installing the dependencies too takes 10 to 20 s an environment
here, and the pre-commit hook's test does it (from the repository, with full resolution). A
``.pth`` line names a directory without running the ``.pth`` files in it, so the editable install
of this checkout stays out, and the test checks that ``tagmgr`` comes from the fresh environment.
Builds take setuptools from the session's wheelhouse (see ``conftest``), as they would from the
package index.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tagmgr import __version__
from tagmgr.commands.schemas import SCHEMAS
from tests.support.gitrepos import UpstreamRepo
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.integration

TIMEOUT = 300  # a build fetches setuptools into an isolated environment


def run(*argv: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(
    source_checkout: UpstreamRepo,
    wheelhouse: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, source_checkout.path, env=wheelhouse)
    return out


def artifact(dist: Path, pattern: str) -> Path:
    (found,) = dist.glob(pattern)
    return found


def published(name: str) -> bytes:
    return (REPO_ROOT / "schemas" / f"{name}.schema.json").read_bytes()


def test_the_wheel_ships_every_schema_as_a_file_and_declares_the_dependencies(
    dist: Path,
) -> None:
    with zipfile.ZipFile(artifact(dist, "*.whl")) as wheel:
        for name, path in SCHEMAS.items():
            assert wheel.read(f"tagmgr/{path}") == published(name), path
        (metadata,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        requires = email.message_from_bytes(wheel.read(metadata)).get_all("Requires-Dist")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = [r for r in requires or [] if "extra ==" not in r]
    assert sorted(runtime) == sorted(project["project"]["dependencies"])


def test_the_sdist_holds_the_schemas_as_files_not_links(dist: Path) -> None:
    with tarfile.open(artifact(dist, "*.tar.gz")) as sdist:
        for name, path in SCHEMAS.items():
            member = sdist.getmember(f"tagmgr-{__version__}/tagmgr/{path}")
            assert member.isfile(), path
            extracted = sdist.extractfile(member)
            assert extracted is not None, path
            assert extracted.read() == published(name), path


@pytest.mark.parametrize("kind", ["*.whl", "*.tar.gz"])
def test_installed_in_a_fresh_venv_tagmgr_runs(
    dist: Path, kind: str, wheelhouse: dict[str, str], tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "borrowed-dependencies.pth").write_text(
        "".join(f"{path}\n" for path in sorted(borrowed)), encoding="utf-8"
    )
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        artifact(dist, kind),
        env=wheelhouse,
    )

    work = tmp_path / "work"
    work.mkdir()
    (work / "release.yaml").write_bytes((REPO_ROOT / "manifests" / "starlingx.yaml").read_bytes())
    tagmgr = venv / "bin" / "tagmgr"
    imported = run(python, "-c", "import tagmgr; print(tagmgr.__file__)", cwd=work)
    assert imported.startswith(str(venv)), imported
    assert run(tagmgr, "--version", cwd=work) == f"tagmgr {__version__}\n"
    assert run(tagmgr, "validate", "release.yaml", cwd=work) == "release.yaml: ok (2 images)\n"
    for name in SCHEMAS:
        assert run(tagmgr, "schema", name, cwd=work).encode() == published(name)
