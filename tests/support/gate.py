"""Whether integration tests may run here, and what to do when they may not.

Missing tools skip a test on a developer's machine but fail it under CI, so a CI run can never
go green by silently skipping every real-registry test.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support.registry import REGISTRY_BINARY

INTEGRATION_TOOLS = (REGISTRY_BINARY, "skopeo")


def running_in_ci() -> bool:
    """``CI`` is set to anything but empty, "false" or "0"."""
    return os.environ.get("CI", "").strip().lower() not in ("", "false", "0")


def require_integration_tools() -> None:
    """Return if every tool is on PATH; else skip the current test, or fail it under CI."""
    missing = [tool for tool in INTEGRATION_TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"integration test needs {' and '.join(missing)} on PATH; `make system-deps` installs"
    if running_in_ci():
        pytest.fail(f"{reason}. CI is set, so this fails instead of skipping.", pytrace=False)
    pytest.skip(reason)
