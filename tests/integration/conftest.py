"""Fixtures shared by the integration tests that package or install tagmgr."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from tests.support.checkout import snapshot
from tests.support.gitrepos import UpstreamRepo
from tests.support.paths import REPO_ROOT

DOWNLOAD_TIMEOUT = 300


@pytest.fixture(scope="session")
def source_checkout(tmp_path_factory: pytest.TempPathFactory) -> UpstreamRepo:
    """This checkout's files, committed in a repository of their own (see ``snapshot``)."""
    return snapshot(tmp_path_factory.mktemp("checkout") / "tagmgr")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pip settings under which builds and installs take tagmgr's build requirements and
    dependencies from a directory, filled from the package index once per session.

    Every install then resolves locally: asking the index again for each of them cost 20 to 40 s
    apiece here, most of it waiting, and made their time depend on the index's.
    """
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
    directory = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", directory, *requirements],
        capture_output=True,
        timeout=DOWNLOAD_TIMEOUT,
        check=True,
    )
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(directory)}
