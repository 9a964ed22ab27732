"""Fixtures shared by the integration tests that package or install tagmgr."""

from __future__ import annotations

import pytest

from tests.support.checkout import snapshot
from tests.support.gitrepos import UpstreamRepo


@pytest.fixture(scope="session")
def source_checkout(tmp_path_factory: pytest.TempPathFactory) -> UpstreamRepo:
    """This checkout's files, committed in a repository of their own (see ``snapshot``)."""
    return snapshot(tmp_path_factory.mktemp("checkout") / "tagmgr")
