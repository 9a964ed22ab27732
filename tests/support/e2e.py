"""Helpers for end-to-end tests: write manifests, run the real CLI in-process, read registries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tagmgr.cli import main

GATE = ("--dry-run", "--detailed-exitcode")
"""A dry run whose exit code says whether something would change (2) or not (0): a CI check."""
DRY_RUN_NOTE = "tagmgr: dry run: nothing was changed\n"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def write_manifest(path: Path, entries: Sequence[Mapping[str, object]]) -> Path:
    lines = ["images:"]
    for entry in entries:
        first = True
        for key, value in entry.items():
            lines.append(f"{'- ' if first else '  '}{key}: {json.dumps(value)}")
            first = False
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def entries_for(address: str, repos: list[str], build: str = "build-1") -> list[dict[str, str]]:
    """One entry a repository of the registry at ``address``: ``build`` gets tag ``v1``."""
    return [{"name": f"{address}/{repo}", "src_build_tag": build, "tag": "v1"} for repo in repos]


def one_entry_manifest(path: Path, name: str) -> Path:
    """The commonest manifest in these tests: ``name:build-1`` gets tag ``v1``."""
    return write_manifest(path, [{"name": name, "src_build_tag": "build-1", "tag": "v1"}])


def run_tagmgr(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
