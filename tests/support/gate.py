"""Whether integration tests may run here, and what to do when they may not.

Missing tools skip a test on a developer's machine but fail it under CI, so a CI run can never
go green by silently skipping every real-registry test.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

from tests.support.dockerd import DOCKERD_BINARY
from tests.support.registry import REGISTRY_BINARY

INTEGRATION_TOOLS = (REGISTRY_BINARY, "skopeo")


def running_in_ci() -> bool:
    """``CI`` is set to anything but empty, "false" or "0"."""
    return os.environ.get("CI", "").strip().lower() not in ("", "false", "0")


def require_integration_tools() -> None:
    """Return if every tool is on PATH; else skip the current test, or fail it under CI."""
    missing = [tool for tool in INTEGRATION_TOOLS if shutil.which(tool) is None]
    if missing:
        _unavailable(f"integration test needs {' and '.join(missing)} on PATH")


def require_program(name: str) -> None:
    """Return if ``name`` is on PATH (a shell, say); else skip the test, or fail it under CI."""
    if shutil.which(name) is None:
        _unavailable(f"test needs {name} on PATH")


def require_dockerd() -> None:
    """Return if ``dockerd`` is on PATH and we are root (it runs only as root here)."""
    if shutil.which(DOCKERD_BINARY) is None:
        _unavailable(f"test needs {DOCKERD_BINARY} (Debian's docker.io) on PATH")
    if os.geteuid() != 0:
        _unavailable(f"test needs root to start {DOCKERD_BINARY}")


def _unavailable(reason: str) -> NoReturn:
    reason = f"{reason}; `make system-deps` installs what is missing"
    if running_in_ci():
        pytest.fail(f"{reason}. CI is set, so this fails instead of skipping.", pytrace=False)
    pytest.skip(reason)
