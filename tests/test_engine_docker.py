"""--engine docker against a real dockerd and a real registry: exact copies, refusals, tidiness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tagmgr.engines.docker import DockerEngine
from tagmgr.errors import TagmgrError
from tagmgr.reference import ImageReference
from tagmgr.registry import Registries, RegistryOptions
from tests.e2e import run_tagmgr, write_manifest
from tests.support.dockerd import DockerDaemon
from tests.support.oci import Image, ImageFactory
from tests.support.push import get_manifest_bytes, head_digest, push
from tests.support.registry import RegistryServer

ALTERNATIVES = "--engine skopeo copies the exact bytes"


@pytest.fixture
def daemon(docker_host: DockerDaemon) -> Iterator[docker.DockerClient]:
    client = docker_host.client()
    yield client
    client.close()


@pytest.fixture
def registries() -> Iterator[Registries]:
    with Registries(RegistryOptions()) as opened:
        yield opened


def local_references(client: docker.DockerClient) -> set[str]:
    """Every tag and digest reference the daemon holds."""
    return {
        ref
        for image in client.api.images(all=True)
        for ref in (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
    }


def daemon_pushed(client: docker.DockerClient, address: str, repo: str, image: Image) -> str:
    """Have the daemon itself write a manifest: pull ``image``, push it as ``daemon-pushed``."""
    push(address, repo, "from-python", image)
    pulled = f"{address}/{repo}@{image.digest}"
    client.api.pull(pulled)
    client.api.tag(pulled, f"{address}/{repo}", "daemon-pushed")
    client.api.push(f"{address}/{repo}", "daemon-pushed")
    client.api.remove_image(f"{address}/{repo}:daemon-pushed")  # takes the digest refs along
    digest = head_digest(address, repo, "daemon-pushed")
    assert digest is not None
    return digest


@pytest.mark.parametrize("written_by", ["python", "daemon"])
def test_a_manifest_in_the_daemons_form_is_copied_at_its_digest(
    written_by: str,
    daemon: docker.DockerClient,
    registry: RegistryServer,
    registries: Registries,
    repo: str,
    images: ImageFactory,
) -> None:
    address = registry.address
    if written_by == "python":
        image = images.daemon_form()
        push(address, repo, "build-1", image)
        source_digest = image.digest
    else:
        source_digest = daemon_pushed(daemon, address, repo, images.docker())
    before = local_references(daemon)
    source = ImageReference.parse(f"{address}/{repo}@{source_digest}")

    DockerEngine(registries).copy(source, source.with_tag("v1"))

    assert head_digest(address, repo, "v1") == source_digest
    assert local_references(daemon) == before  # what it pulled and tagged is gone again


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (
            "index",
            "an OCI image index: the daemon pulls one platform and pushes it as a Docker schema 2 "
            "manifest, under another digest",
        ),
        (
            "oci",
            "an OCI image manifest: the daemon pushes it with Docker media types, under another "
            "digest",
        ),
        (
            "docker",
            "a Docker schema 2 manifest not in the daemon's own JSON form (its bytes differ from "
            "the daemon's re-serialisation from byte 188 on): the daemon would push it under "
            "another digest",
        ),
    ],
)
def test_what_the_daemon_would_rewrite_is_refused_and_nothing_is_written(
    kind: str,
    reason: str,
    daemon: docker.DockerClient,
    registry: RegistryServer,
    registries: Registries,
    repo: str,
    images: ImageFactory,
) -> None:
    image = images.build(kind)
    push(registry.address, repo, "build-1", image)
    before = local_references(daemon)
    source = ImageReference.parse(f"{registry.address}/{repo}:build-1")

    with pytest.raises(TagmgrError) as refused:
        DockerEngine(registries).copy(source, source.with_tag("v1"))

    assert str(refused.value) == (
        f"--engine docker refuses {registry.address}/{repo}@{image.digest}: {reason}. "
        f"Nothing was written; {ALTERNATIVES}"
    )
    assert head_digest(registry.address, repo, "v1") is None
    assert local_references(daemon) == before


def test_an_image_the_daemon_held_by_digest_only_stays(
    daemon: docker.DockerClient,
    registry: RegistryServer,
    registries: Registries,
    repo: str,
    images: ImageFactory,
) -> None:
    image = images.daemon_form()
    push(registry.address, repo, "build-1", image)
    held = f"{registry.address}/{repo}@{image.digest}"
    daemon.api.pull(held)
    before = local_references(daemon)

    DockerEngine(registries).copy(
        ImageReference.parse(held), ImageReference.parse(held).with_tag("v1")
    )

    assert head_digest(registry.address, repo, "v1") == image.digest
    assert local_references(daemon) == before
    daemon.api.remove_image(held)


def test_a_local_tag_of_the_destinations_name_is_put_back(
    daemon: docker.DockerClient,
    registry: RegistryServer,
    registries: Registries,
    repo: str,
    images: ImageFactory,
) -> None:
    address = registry.address
    mine, other = images.daemon_form("mine"), images.daemon_form("other")
    push(address, repo, "build-1", mine)
    push(address, repo, "local", other)
    daemon.api.pull(f"{address}/{repo}", tag="local")
    daemon.api.tag(f"{address}/{repo}:local", f"{address}/{repo}", "v1")
    local_v1 = daemon.api.inspect_image(f"{address}/{repo}:v1")["Id"]
    source = ImageReference.parse(f"{address}/{repo}@{mine.digest}")

    DockerEngine(registries).copy(source, source.with_tag("v1"))

    assert head_digest(address, repo, "v1") == mine.digest
    assert daemon.api.inspect_image(f"{address}/{repo}:v1")["Id"] == local_v1
    for tag in ("v1", "local"):
        daemon.api.remove_image(f"{address}/{repo}:{tag}")


def test_apply_with_the_docker_engine_creates_and_refuses_per_entry(
    docker_host: DockerDaemon,
    registry: RegistryServer,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = registry.address
    exact, index = images.daemon_form(), images.index()
    push(address, "docker-engine/exact", "build-1", exact)
    push(address, "docker-engine/index", "build-1", index)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": f"{address}/docker-engine/exact", "src_build_tag": "build-1", "tag": "v1"},
            {"name": f"{address}/docker-engine/index", "src_build_tag": "build-1", "tag": "v1"},
        ],
    )

    result = run_tagmgr(capsys, "apply", "--engine", "docker", manifest)

    assert result.code == 1, result.out + result.err
    assert "apply: 1 created, 0 present, 1 failed" in result.out
    assert (
        f"--engine docker refuses {address}/docker-engine/index@{index.digest}: an OCI image "
        "index: the daemon pulls one platform and pushes it as a Docker schema 2 manifest, under "
        f"another digest. Nothing was written; {ALTERNATIVES}"
    ) in result.out
    assert get_manifest_bytes(address, "docker-engine/exact", "v1") == exact.manifest_bytes
    assert head_digest(address, "docker-engine/index", "v1") is None
