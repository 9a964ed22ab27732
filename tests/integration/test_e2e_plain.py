"""plan and apply end to end: the real CLI, a real docker-registry on 127.0.0.1, real skopeo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import KINDS, OCI_INDEX, OCI_MANIFEST, ImageFactory
from tests.support.pull import pull_whole
from tests.support.push import get_manifest_bytes, head_digest, push
from tests.support.registry import RegistryServer
from tests.unit.manifest.test_load import STARLINGX

pytestmark = pytest.mark.integration


def test_issue_manifest_through_map_registry(
    registry: RegistryServer,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index, docker_list = images.index(), images.docker_list()
    address = registry.address
    push(address, "starlingx/k8s-cni-sriov", "master-centos-stable-20191203T153530Z.0", index)
    push(
        address,
        "starlingx/intel-gpu-plugin",
        "master-distroless-stable-20191203T153530Z.0",
        docker_list,
    )
    manifest = tmp_path / "starlingx.yaml"
    manifest.write_text(STARLINGX, encoding="utf-8")
    mapping = f"--map-registry=docker.io={address}"

    planned = run_tagmgr(capsys, "plan", mapping, manifest)
    assert planned.code == 0, planned.err  # a valid plan, changes or not
    assert planned.out.splitlines()[0].startswith(
        f"create          {address}/starlingx/k8s-cni-sriov:stx.4.0-v2.2 "
        f"<- master-centos-stable-20191203T153530Z.0  {index.digest[:19]}"
    )

    applied = run_tagmgr(capsys, "apply", "--yes", mapping, manifest)
    assert applied.code == 0, applied.out + applied.err
    assert "apply: 2 created, 0 present, 0 failed" in applied.out
    assert head_digest(address, "starlingx/k8s-cni-sriov", "stx.4.0-v2.2") == index.digest
    assert head_digest(address, "starlingx/intel-gpu-plugin", "stx.4.0-v0.11.0-103-g4f28657") == (
        docker_list.digest
    )

    again = run_tagmgr(capsys, "plan", mapping, manifest)
    assert again.code == 0, again.out
    assert "plan: 0 to create, 2 present, 0 conflicts, 0 missing sources, 0 errors" in again.out
    rerun = run_tagmgr(capsys, "apply", "--yes", mapping, manifest)
    assert (rerun.code, "apply: 0 created, 2 present, 0 failed" in rerun.out) == (0, True)


@pytest.mark.parametrize("engine", ["api", "skopeo"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_keeps_its_bytes(
    kind: str,
    engine: str,
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = images.build(kind)
    push(registry.address, repo, "build-1", image)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"name": f"{registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}],
    )
    result = run_tagmgr(capsys, "apply", "--yes", "-v", f"--engine={engine}", manifest)
    assert result.code == 0, result.out + result.err
    if engine == "api":  # a retag in one repository is one PUT, and -v says so
        assert f"tagmgr: INFO: {registry.address}/{repo}:v1: api engine, same repository: " in (
            result.err
        )
        assert result.err.count("manifest PUT") == 1
    assert get_manifest_bytes(registry.address, repo, "v1") == image.manifest_bytes
    assert head_digest(registry.address, repo, "v1") == image.digest
    for child in image.children:
        assert get_manifest_bytes(registry.address, repo, child.digest) == child.manifest_bytes
    pulled = pull_whole(f"{registry.address}/{repo}:v1", tmp_path / "pulled")
    if image.media_type in (OCI_MANIFEST, OCI_INDEX):  # skopeo converts Docker types to OCI
        assert pulled == image.digest


def test_conflict_is_left_untouched_and_others_still_done(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = registry.address
    source, squatter = images.oci("source"), images.oci("squatter")
    push(address, repo, "build-1", source)
    push(address, repo, "v1", squatter)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": f"{address}/{repo}", "src_build_tag": "build-1", "tag": "v1"},
            {"name": f"{address}/{repo}", "src_build_tag": "build-1", "tag": "v2"},
            {"name": f"{address}/{repo}", "src_build_tag": "no-such-build", "tag": "v3"},
        ],
    )
    planned = run_tagmgr(capsys, "plan", "--output=json", manifest)
    assert planned.code == 1
    assert [e["action"] for e in planned.json()["entries"]] == [
        "conflict",
        "create",
        "missing-source",
    ]

    applied = run_tagmgr(capsys, "apply", "--yes", "--output=json", manifest)
    assert applied.code == 1
    entries = applied.json()["entries"]
    assert [(e["action"], e["result"]) for e in entries] == [
        ("conflict", "failed"),
        ("create", "created"),
        ("missing-source", "failed"),
    ]
    assert entries[0]["message"] == (
        f"{address}/{repo}:v1 already points at {squatter.digest}, not {source.digest}; "
        "an existing tag is never moved"
    )
    assert entries[1]["source_digest"] == source.digest
    assert head_digest(address, repo, "v1") == squatter.digest
    assert head_digest(address, repo, "v2") == source.digest
    assert head_digest(address, repo, "v3") is None


def test_invalid_manifest_changes_nothing(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    push(registry.address, repo, "build-1", images.oci())
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        f"images:\n- name: {registry.address}/{repo}\n  src_build_tag: build-1\n  tag: v1\n"
        f"- name: {registry.address}/{repo}\n  src_build_tag: build-1\n  tag: 1.10\n",
        encoding="utf-8",
    )
    result = run_tagmgr(capsys, "apply", "--yes", manifest)
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(f"{manifest}:7:8: images[1].tag: ")
    assert head_digest(registry.address, repo, "v1") is None


def test_parallel_jobs_across_repositories(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Twelve tags in four repositories; writes to one repository are serialised by apply."""
    image = images.index()
    repos = [f"{repo}-{n}" for n in range(4)]
    for name in repos:
        push(registry.address, name, "build-1", image)
    entries = [
        {"name": f"{registry.address}/{name}", "src_build_tag": "build-1", "tag": f"v{n}"}
        for n in range(3)
        for name in repos
    ]
    manifest = write_manifest(tmp_path / "m.yaml", entries)
    result = run_tagmgr(capsys, "apply", "--yes", "--jobs=4", manifest)
    assert result.code == 0, result.out + result.err
    assert all(
        head_digest(registry.address, name, f"v{n}") == image.digest
        for n in range(3)
        for name in repos
    )
