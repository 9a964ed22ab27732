"""The files under examples/, which the docs show and their commands use, are what they claim:
each loads with the reader of its kind, and the bad manifest fails as the docs say it does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.changes.ignore import load_ignore_file
from tagmgr.changes.versions import load_versions
from tagmgr.errors import ManifestError
from tagmgr.lifecycle.policyfile import load_policy
from tagmgr.lifecycle.sources import read_source
from tagmgr.lock.read import read_lock
from tagmgr.lock.write import render_lock
from tagmgr.manifest import load_manifests
from tests.support.paths import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"


def lock_as_written(path: str) -> None:
    assert render_lock(read_lock(Path(path))) == Path(path).read_text(encoding="utf-8")


READERS: dict[str, Callable[[str], object]] = {
    "derived.yaml": lambda path: load_manifests([path]),
    "environments.yaml": lambda path: load_manifests([path]),
    "pinned.yaml": lambda path: load_manifests([path]),
    "versions.yaml": load_versions,
    "policy.yaml": load_policy,
    "diff-ignore": load_ignore_file,
    "deploy.yaml": read_source,
    "tagmgr.lock": lock_as_written,
}
"""Each example by name and what reads it; bad.yaml, the charts pin-refs edits, the Job and the
pre-commit configuration are read by other programs or fail on purpose (below)."""
OTHERS = {"bad.yaml", "chart/values.yaml", "tagmgr-sharded-job.yaml", "pre-commit-config.yaml"}


@pytest.mark.parametrize("name", sorted(READERS))
def test_each_example_reads_as_what_it_is(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    READERS[name](f"examples/{name}")


def test_every_example_is_checked_here() -> None:
    files = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*") if p.is_file()}
    assert files == set(READERS) | OTHERS, "add the new example to READERS (or OTHERS)"


def test_the_bad_example_fails_as_the_docs_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(ManifestError) as refused:
        load_manifests(["examples/bad.yaml"])
    shown = (
        'examples/bad.yaml:5:8: images[0].tag: YAML reads 1.10 as a number (1.1); quote it: "1.10"'
    )
    assert str(refused.value) == shown
    for page in ("quickstart.md", "manifest.md", "commands/validate.md"):
        assert shown in (REPO_ROOT / "docs" / page).read_text(encoding="utf-8"), page
