"""resolve end to end, against a real docker-registry on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import one_entry_manifest, run_tagmgr
from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def test_resolve_a_single_manifest_and_an_index(
    registry: RegistryServer, repo: str, images: ImageFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    single, index = images.oci("single"), images.index("index")
    push(registry.address, repo, "one", single)
    push(registry.address, repo, "multi", index)
    name = f"{registry.address}/{repo}"
    result = run_tagmgr(capsys, "resolve", f"{name}:one", f"{name}:multi")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        f"{name}:one  {single.digest}  application/vnd.oci.image.manifest.v1+json\n"
        f"{name}:multi  {index.digest}  application/vnd.oci.image.index.v1+json\n"
    )
    amd64, arm64 = index.children
    listed = run_tagmgr(capsys, "resolve", "--platforms", f"{name}:multi")
    assert listed.out == (
        f"{name}:multi  {index.digest}  application/vnd.oci.image.index.v1+json\n"
        f"  linux/amd64  {amd64.digest}\n"
        f"  linux/arm64  {arm64.digest}\n"
    )


def test_resolve_one_platform_of_an_index_names_the_index_too(
    registry: RegistryServer, repo: str, images: ImageFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    index = images.index()
    push(registry.address, repo, "multi", index)
    ref = f"{registry.address}/{repo}:multi"
    result = run_tagmgr(capsys, "resolve", "--platform", "linux/arm64", ref)
    arm64 = index.children[1]
    assert result.out == f"{ref}  linux/arm64  {arm64.digest}  (one platform of {index.digest})\n"
    document = run_tagmgr(capsys, "resolve", "--output", "json", "--platform", "linux/arm64", ref)
    record = document.json()["references"][0]
    assert (record["digest"], record["platform"]["digest"]) == (index.digest, arm64.digest)
    missing = run_tagmgr(capsys, "resolve", "--platform", "windows/amd64", ref)
    assert missing.code == 1
    assert missing.out == (
        f"{ref}  error: {ref} has no single windows/amd64 manifest; it has linux/amd64, "
        "linux/arm64\n"
    )


def test_resolve_says_what_is_missing_and_refuses_other_digest_algorithms(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = f"{registry.address}/{repo}:nothing"
    result = run_tagmgr(capsys, "resolve", ref)
    assert (result.code, result.out) == (1, f"{ref}  not found\n")
    refused = run_tagmgr(capsys, "resolve", f"{registry.address}/{repo}@md5:abcdef")
    assert refused.code == 1
    assert refused.err == (
        f"tagmgr: error: '{registry.address}/{repo}@md5:abcdef': digest algorithm 'md5' is not"
        " supported; tagmgr accepts sha256:<64 hex> and sha512:<128 hex> digests\n"
    )


def test_resolve_a_manifest_names_every_source_and_target(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = images.docker()
    push(registry.address, repo, "build-1", image)
    name = f"{registry.address}/{repo}"
    manifest = one_entry_manifest(tmp_path / "m.yaml", name)
    result = run_tagmgr(capsys, "resolve", "--manifest", manifest)
    assert (result.code, result.out) == (
        1,
        f"{name}:build-1  {image.digest}  application/vnd.docker.distribution.manifest.v2+json\n"
        f"{name}:v1  not found\n",
    )
