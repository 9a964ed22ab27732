"""diff of images on this machine (OCI layouts, OCI and docker-save archives, a real Docker
daemon) against the same and changed images in a real registry."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from tagmgr.changes.diff import diff_images
from tagmgr.changes.ignore import IgnoreRules
from tagmgr.changes.verdict import DiffVerdict, ImageDiff
from tagmgr.oci.transport import parse_location
from tagmgr.registry import Registries, RegistryOptions
from tagmgr.registry.policy import RetryPolicy
from tests.integration.test_diff import base_entries, first_build, pushed, short
from tests.support.dockerd import DockerDaemon
from tests.support.e2e import run_tagmgr
from tests.support.layers import Entry, Layer, build_image, build_layer, file
from tests.support.local import docker_archive, oci_archive
from tests.support.oci import Image, write_oci_layout
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def changed_build() -> Image:
    entries = base_entries()
    entries[6] = file("etc/app.conf", "port=81\n", xattrs={"user.origin": "build"})
    return build_image([Layer(entries[:5]), Layer(entries[5:])])


def compare(a: str, b: str) -> ImageDiff:
    with Registries(RegistryOptions(retry=RetryPolicy(request_timeout=30.0))) as registries:
        return diff_images(registries, parse_location(a), parse_location(b), IgnoreRules())


def local_copies(image: Image, where: Path) -> dict[str, str]:
    """``image`` as an OCI layout directory, an OCI archive and a docker-save archive."""
    layout = write_oci_layout(image, where / "layout", "v1")
    return {
        "oci": f"oci:{layout}:v1",
        "oci-archive": f"oci-archive:{oci_archive(image, where / 'image.tar', 'v1')}:v1",
        "docker-archive": (
            f"docker-archive:{docker_archive(image, where / 'saved.tar', ['vro/app:b42'])}"
            ":vro/app:b42"
        ),
    }


@pytest.mark.parametrize("transport", ["oci", "oci-archive", "docker-archive"])
def test_a_local_image_against_the_registry(
    registry: RegistryServer,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    transport: str,
) -> None:
    release = first_build()
    refs = pushed(registry, repo, release=release)
    same = local_copies(first_build(), tmp_path / "same")[transport]
    changed = local_copies(changed_build(), tmp_path / "changed")[transport]

    result = run_tagmgr(capsys, "diff", refs["release"], same)
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    verdict = "identical" if transport.startswith("oci") else "equivalent"
    assert first == f"{verdict}: {refs['release']} -> {same}"

    result = run_tagmgr(capsys, "diff", refs["release"], changed, "--output", "json")
    assert result.code == 2, result.err
    (platform,) = result.json()["platforms"]
    assert [(r["kind"], r["subject"]) for r in platform["reasons"]] == [
        ("file-modified", "etc/app.conf")
    ]
    assert result.json()["b"] == changed


def test_a_docker_save_archive_is_named_by_its_image_id(tmp_path: Path) -> None:
    image = first_build()
    path = docker_archive(image, tmp_path / "saved.tar", ["vro/app:b42", "vro/app:latest"])
    result = compare(f"docker-archive:{path}", f"docker-archive:{path}:@0")
    config_digest = json.loads(image.manifest_bytes)["config"]["digest"]
    assert (result.digest_a, result.verdict) == (config_digest, DiffVerdict.IDENTICAL)
    assert (
        compare(
            f"docker-archive:{path}:vro/app", f"oci:{write_oci_layout(image, tmp_path / 'l')}"
        ).verdict
        is DiffVerdict.EQUIVALENT
    )


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("oci:{tmp}/none", "oci:{tmp}/none: cannot read oci-layout: No such file or directory"),
        (
            "oci:{tmp}/layout:v2",
            "oci:{tmp}/layout has no image named 'v2' (ref names: 'v1')",
        ),
        (
            "docker-archive:{tmp}/saved.tar:vro/other:1",
            "docker-archive:{tmp}/saved.tar:vro/other:1 has no image tagged vro/other:1 "
            "(RepoTags: vro/app:b42)",
        ),
        (
            "docker-archive:{tmp}/saved.tar:@3",
            "docker-archive:{tmp}/saved.tar:@3 holds 1 images; there is no @3",
        ),
        (
            "oci-archive:{tmp}/layout",
            "oci-archive:{tmp}/layout: cannot read the archive: Is a directory",
        ),
    ],
)
def test_a_local_image_that_cannot_be_read_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], location: str, message: str
) -> None:
    local_copies(first_build(), tmp_path)
    given = location.format(tmp=tmp_path)
    result = run_tagmgr(capsys, "diff", given, f"oci:{tmp_path}/layout:v1")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"tagmgr: error: {message.format(tmp=tmp_path)}\n"


def load(daemon: DockerDaemon, archive: Path) -> None:
    client = daemon.client()
    try:
        with archive.open("rb") as data:
            client.api.load_image(data)  # type: ignore[no-untyped-call]
    finally:
        client.close()


def test_a_daemon_image_against_the_registry(
    registry: RegistryServer,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    docker_host: DockerDaemon,
) -> None:
    refs = pushed(registry, repo, release=first_build())
    name = repo.replace("/", "-")
    load(docker_host, docker_archive(first_build(), tmp_path / "same.tar", [f"{name}:same"]))
    load(docker_host, docker_archive(changed_build(), tmp_path / "new.tar", [f"{name}:new"]))

    same = run_tagmgr(capsys, "diff", refs["release"], f"docker-daemon:{name}:same")
    assert same.code == 0, same.err
    assert same.out.splitlines()[0] == (
        f"equivalent: {refs['release']} -> docker-daemon:{name}:same"
    )
    changed = run_tagmgr(capsys, "diff", refs["release"], f"docker-daemon:{name}:new")
    assert changed.code == 2, changed.err
    assert changed.out.splitlines()[2:] == [
        f"    file-modified etc/app.conf: content {short('port=80')} -> {short('port=81')}"
    ]
    missing = run_tagmgr(capsys, "diff", refs["release"], f"docker-daemon:{name}:nope")
    assert missing.code == 1
    assert "No such image" in missing.err


def test_a_large_daemon_layer_is_streamed_in_bounded_memory(
    registry: RegistryServer, repo: str, tmp_path: Path, docker_host: DockerDaemon
) -> None:
    """128 MiB of file content in one layer, read from the daemon's save stream."""
    big = build_layer(Layer([Entry("data/blob.bin", zeros=128 * 1024 * 1024)], gzip_level=None))
    local = build_image([big, Layer([file("data/extra.txt", "extra")])])
    refs = pushed(registry, repo, release=build_image([big]))
    name = repo.replace("/", "-")
    load(docker_host, docker_archive(local, tmp_path / "big.tar", [f"{name}:big"]))
    del big, local
    tracemalloc.start()
    try:
        result = compare(refs["release"], f"docker-daemon:{name}:big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [str(reason) for reason in result.reasons] == ["file-added data/extra.txt: file"]
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"
    print(f"peak traced memory: {peak} bytes")
