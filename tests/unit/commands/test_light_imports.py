"""`tagmgr validate` runs on every commit as a pre-commit hook: it must not import what it never
uses. Every command module is imported to build the parser, so this guards all of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.unit.manifest.test_load import STARLINGX

HEAVY = (
    "httpx",
    "httpcore",
    "ssl",
    "git",
    "sh",
    "jsonschema",
    "tagmgr.registry",
    "tagmgr.engines.skopeo",
    "tagmgr.git.describe",
    "tagmgr.reconcile.inventory",
    "tagmgr.reconcile.apply",
    "tagmgr.reconcile.plan",
    "tagmgr.reconcile.targets",
    "tagmgr.system.process",
    "tagmgr.git.cache",
    "subprocess",
    "concurrent.futures",
    "logging",
    "difflib",
    "dataclasses",
    "inspect",
)
"""The registry client and its HTTP stack, the engines, git, jsonschema (only for errors), the
applier and the process layer; logging (see ``tagmgr.system.logs``), and difflib (for a mistyped
key).

And dataclasses: importing it (it imports inspect) and making eleven frozen dataclasses was 18 % of
the instructions of ``tagmgr validate`` of 50 entries (callgrind: 419 M, 355 M with the records
that validate loads made named tuples, which cost a sixth of a dataclass to define)."""

# A fresh interpreter: this test process has imported everything already.
PROBE = """
import json, sys
from tagmgr.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": sorted(sys.modules)}))
"""


def fresh_run(*argv: str) -> tuple[int, list[str], list[str]]:
    """``tagmgr ARGV`` in a fresh interpreter: its exit code, its output lines, and every module
    it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    *lines, last = done.stdout.splitlines()
    result = json.loads(last)
    return result["code"], lines, result["loaded"]


def among(loaded: list[str], modules: tuple[str, ...]) -> list[str]:
    """The ``loaded`` modules that are one of ``modules`` or inside one."""
    return [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in modules)]


def test_validate_imports_no_registry_client_engine_or_git(tmp_path: Path) -> None:
    manifest = tmp_path / "stx.yaml"
    manifest.write_text(STARLINGX, encoding="utf-8")
    code, lines, loaded = fresh_run("validate", str(manifest))
    assert (code, lines) == (0, [f"{manifest}: ok (2 images)"])
    assert among(loaded, HEAVY) == []


def test_the_registry_client_leaves_httpx_to_an_https_proxy() -> None:
    """Importing httpx was a third of a plan's start-up; only an https:// proxy needs it."""
    probe = "import sys, tagmgr.registry, tagmgr.registry.session; print('httpx' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_what_a_plan_imports_makes_no_dataclass_no_logger_and_no_hasher() -> None:
    """Importing dataclasses and making 22 of them was about 23 ms of a plan's start-up, before
    its first request (``make bench``); the plan's value types are named tuples. Importing
    logging for the registry client's loggers was 4 ms more (see ``tagmgr.system.logs``), and
    hashlib (OpenSSL's) 3 ms, for hashing that a plan, which reads digests from answers' headers,
    never does."""
    modules = (
        "tagmgr.cli",
        "tagmgr.commands.core",
        "tagmgr.reconcile.pipeline",
        "tagmgr.reconcile.inventory",
        "tagmgr.reconcile.resolve",
        "tagmgr.registry",
        "tagmgr.report.core",
        "tagmgr.report.progress",
        "tagmgr.report.publish",
    )
    probe = (
        f"import sys, {', '.join(modules)}; "
        "print(sorted({'dataclasses', 'logging', 'hashlib'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
