"""The markers that choose what runs: ``integration`` by directory, ``slow`` by module, and the
gate that fails, under CI, a test whose tools are missing instead of skipping it.

Each check runs pytest in a child process, as ``make unit`` and CI run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

TIMEOUT = 120


def pytest_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def collected_files(marks: str, where: str = "tests") -> set[str]:
    listed = pytest_run("--collect-only", "-q", "-m", marks, where)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return {line.split("::")[0] for line in listed.stdout.splitlines() if "::" in line}


def test_unit_runs_no_test_of_tests_integration_and_no_slow_module() -> None:
    unit = collected_files("not integration and not slow")
    assert unit, "nothing collected"
    assert {path for path in unit if not path.startswith("tests/unit/")} == set()
    assert "tests/unit/documents/test_write_signals.py" not in unit
    assert "tests/unit/git/test_describe.py" not in unit
    this = "tests/integration/test_markers.py"
    assert collected_files("integration", this) == {this}


NEEDS_A_REGISTRY = """
def test_needs_a_registry(registry):
    raise AssertionError("the gate let it run")
"""


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("false", "1 skipped")])
def test_without_its_tools_a_registry_test_fails_under_ci_and_is_skipped_elsewhere(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    test = tmp_path / "test_gated.py"
    test.write_text(NEEDS_A_REGISTRY, encoding="utf-8")
    env = {**os.environ, "CI": ci, "PATH": str(tmp_path)}  # no docker-registry, no skopeo
    config = str(REPO_ROOT / "pyproject.toml")
    ran = pytest_run("-c", config, "-p", "tests.conftest", "-rs", str(test), env=env)
    assert outcome in ran.stdout, ran.stdout + ran.stderr
    assert "the gate let it run" not in ran.stdout
    if ci == "true":
        assert "CI is set, so this fails instead of skipping" in ran.stdout
