"""--engine docker against a real dockerd and a real registry: exact copies, refusals, tidiness."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from tagmgr.engines.docker import DockerEngine
from tagmgr.errors import DockerError, TagmgrError
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryOptions
from tests.support.dockerd import DockerDaemon
from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import Image, ImageFactory
from tests.support.push import get_manifest_bytes, head_digest, push
from tests.support.registry import RegistryServer
from tests.support.trust import write_htpasswd

ALTERNATIVES = "--engine api or --engine skopeo copies the exact bytes"


@dataclass(frozen=True)
class Bench:
    """One test's repository on the session registry, the session daemon, and tagmgr's clients."""

    daemon: docker.DockerClient
    address: str
    repo: str
    images: ImageFactory
    registries: Registries

    def source(self, tag: str, image: Image) -> ImageReference:
        """Push ``image`` as ``repo:tag``; its reference by digest."""
        push(self.address, self.repo, tag, image)
        return ImageReference.parse(f"{self.address}/{self.repo}@{image.digest}")

    def copy(self, source: ImageReference, tag: str = "v1") -> None:
        DockerEngine(self.registries).copy(source, source.with_tag(tag))

    def digest(self, tag: str) -> str | None:
        return head_digest(self.address, self.repo, tag)

    def references(self) -> set[str]:
        """Every tag and digest reference the daemon holds."""
        return {
            ref
            for image in self.daemon.api.images(all=True)
            for ref in (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
        }


@pytest.fixture
def bench(
    docker_host: DockerDaemon, registry: RegistryServer, repo: str, images: ImageFactory
) -> Iterator[Bench]:
    client = docker_host.client()
    with Registries(RegistryOptions()) as registries:
        yield Bench(client, registry.address, repo, images, registries)
    client.close()


def pushed_by_the_daemon(bench: Bench, image: Image) -> ImageReference:
    """Have the daemon itself write a manifest: pull ``image``, push it as ``daemon-pushed``."""
    pulled = str(bench.source("from-python", image))
    name = f"{bench.address}/{bench.repo}"
    bench.daemon.api.pull(pulled)
    bench.daemon.api.tag(pulled, name, "daemon-pushed")
    bench.daemon.api.push(name, "daemon-pushed")
    bench.daemon.api.remove_image(f"{name}:daemon-pushed")  # takes the digest refs along
    digest = bench.digest("daemon-pushed")
    assert digest is not None
    return ImageReference.parse(f"{name}@{digest}")


@pytest.mark.parametrize("written_by", ["python", "daemon"])
def test_a_manifest_in_the_daemons_form_is_copied_at_its_digest(
    written_by: str, bench: Bench
) -> None:
    if written_by == "python":
        source = bench.source("build-1", bench.images.daemon_form())
    else:
        source = pushed_by_the_daemon(bench, bench.images.docker())
    before = bench.references()

    bench.copy(source)

    assert bench.digest("v1") == source.digest
    assert bench.references() == before  # what it pulled and tagged is gone again


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
    kind: str, reason: str, bench: Bench
) -> None:
    image = bench.images.build(kind)
    source = bench.source("build-1", image)
    before = bench.references()

    with pytest.raises(TagmgrError) as refused:
        bench.copy(source)

    assert str(refused.value) == (
        f"--engine docker refuses {source}: {reason}. Nothing was written; {ALTERNATIVES}"
    )
    assert bench.digest("v1") is None
    assert bench.references() == before


def test_an_image_the_daemon_held_by_digest_only_stays(bench: Bench) -> None:
    source = bench.source("build-1", bench.images.daemon_form())
    bench.daemon.api.pull(str(source))
    before = bench.references()

    bench.copy(source)

    assert bench.digest("v1") == source.digest
    assert bench.references() == before
    bench.daemon.api.remove_image(str(source))


def test_a_local_tag_of_the_destinations_name_is_put_back(bench: Bench) -> None:
    source = bench.source("build-1", bench.images.daemon_form("mine"))
    other = bench.source("local", bench.images.daemon_form("other"))
    local_v1 = f"{other.name}:v1"
    bench.daemon.api.pull(str(other))
    bench.daemon.api.tag(str(other), other.name, "v1")
    image_id = bench.daemon.api.inspect_image(local_v1)["Id"]  # type: ignore[no-untyped-call]

    bench.copy(source)

    assert bench.digest("v1") == source.digest
    assert bench.daemon.api.inspect_image(local_v1)["Id"] == image_id  # type: ignore[no-untyped-call]
    bench.daemon.api.remove_image(local_v1)


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

    result = run_tagmgr(capsys, "apply", "--yes", "--engine", "docker", manifest)

    assert result.code == 1, result.out + result.err
    assert "apply: 1 created, 0 present, 1 failed" in result.out
    assert (
        f"--engine docker refuses {address}/docker-engine/index@{index.digest}: an OCI image "
        "index: the daemon pulls one platform and pushes it as a Docker schema 2 manifest, under "
        f"another digest. Nothing was written; {ALTERNATIVES}"
    ) in result.out
    assert get_manifest_bytes(address, "docker-engine/exact", "v1") == exact.manifest_bytes
    assert head_digest(address, "docker-engine/index", "v1") is None


def test_unreachable_daemon_is_an_error_and_nothing_is_written(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = bench.source("build-1", bench.images.daemon_form())
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(DockerError) as failed:
        bench.copy(source)
    assert str(failed.value).startswith(
        "docker daemon unix:///nonexistent/docker.sock: Error while fetching server API version"
    )
    assert bench.digest("v1") is None


def test_credentials_reach_the_daemon_in_its_auth_header(
    docker_host: DockerDaemon, repo: str, images: ImageFactory, tmp_path: Path
) -> None:
    password = secrets.token_urlsafe(16)
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"ci": password})
    authfile = tmp_path / "auth.json"
    with RegistryServer(tmp_path / "registry", htpasswd=htpasswd) as server:
        token = base64.b64encode(f"ci:{password}".encode()).decode()
        authfile.write_text(json.dumps({"auths": {server.address: {"auth": token}}}))
        image = images.daemon_form()
        push(server.address, repo, "build-1", image, auth=("ci", password))
        source = ImageReference.parse(f"{server.address}/{repo}@{image.digest}")

        with Registries(RegistryOptions(authfile=authfile)) as registries:
            DockerEngine(registries).copy(source, source.with_tag("v1"))

        assert head_digest(server.address, repo, "v1", auth=("ci", password)) == image.digest
    assert password not in docker_host.read_log()
