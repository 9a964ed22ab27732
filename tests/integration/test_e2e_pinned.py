"""Pinned sources (src_digest) end to end: a rebuilt source never gets the reviewed tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def test_a_moved_pin_is_refused_and_the_other_entries_are_still_done(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reviewed, rebuilt, other = images.oci("reviewed"), images.oci("rebuilt"), images.index("other")
    address, name = registry.address, f"{registry.address}/{repo}"
    push(address, repo, "build-1", reviewed)
    push(address, repo, "build-1", rebuilt)  # the build tag moved after review
    push(address, repo, "build-2", other)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": name, "src_build_tag": "build-1", "src_digest": reviewed.digest, "tag": "v1"},
            {"name": name, "src_build_tag": "build-2", "src_digest": other.digest, "tag": "v2"},
            {"name": name, "src_digest": reviewed.digest, "tag": "v3"},
        ],
    )
    result = run_tagmgr(capsys, "apply", "--yes", manifest)
    assert result.code == 1
    assert result.out.splitlines()[:2] == [
        f"failed          {name}:v1 <- build-1  {rebuilt.digest[:19]}",
        f"                {name}:build-1 points at {rebuilt.digest}, not src_digest"
        f" {reviewed.digest}: the source was rebuilt or changed since it was reviewed;"
        " refused, nothing written",
    ]
    assert "apply: 2 created, 0 present, 1 failed" in result.out
    assert head_digest(address, repo, "v1") is None
    assert head_digest(address, repo, "v2") == other.digest
    assert head_digest(address, repo, "v3") == reviewed.digest  # by digest alone


def test_a_pin_naming_one_platform_of_the_index_says_so(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = images.index()
    arm64 = index.children[1]
    push(registry.address, repo, "build-1", index)
    name = f"{registry.address}/{repo}"
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"name": name, "src_build_tag": "build-1", "src_digest": arm64.digest, "tag": "v1"}],
    )
    result = run_tagmgr(capsys, "plan", "--output", "json", manifest)
    assert result.code == 1
    entry = result.json()["entries"][0]
    assert (entry["action"], entry["message"]) == (
        "error",
        f"src_digest {arm64.digest} is the linux/arm64 manifest inside the index"
        f" {name}:build-1 points at, not the index; pin the index digest {index.digest} so that"
        " every platform gets the tag; refused, nothing written",
    )
    assert head_digest(registry.address, repo, "v1") is None


def test_a_pin_in_one_file_holds_when_another_lists_the_entry_unpinned_first(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    """Build-1 was rebuilt after the review that pinned it: the pin refuses it, whichever of
    the two files that list v1 comes first."""
    reviewed, rebuilt = images.oci("reviewed"), images.oci("rebuilt")
    push(registry.address, repo, "build-1", rebuilt)
    entry = {"name": f"{registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}
    unpinned = write_manifest(tmp_path / "a.yaml", [entry])
    pinned = write_manifest(tmp_path / "b.yaml", [{**entry, "src_digest": reviewed.digest}])
    run = run_tagmgr(capsys, "apply", "--yes", unpinned, pinned)
    assert run.code == 1
    assert head_digest(registry.address, repo, "v1") is None
