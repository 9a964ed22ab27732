"""In use from what runs: a real dockerd's containers, and kubectl's pod lists."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest

from tagmgr.errors import DockerError
from tagmgr.lifecycle.inuse import InUse, InUseSet
from tagmgr.lifecycle.runtime import docker_in_use, familiar
from tagmgr.oci.reference import ImageReference
from tests.integration.test_e2e_expire import POLICY
from tests.support.dockerd import DockerDaemon
from tests.support.e2e import GATE, run_tagmgr
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("team/app@sha256:" + "a" * 64, "docker.io/team/app@sha256:" + "a" * 64),
        ("127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1"),
        ("localhost/app", "localhost/app:latest"),
    ],
)
def test_names_are_read_as_docker_reads_them(text: str, expected: str) -> None:
    assert familiar(text) == ImageReference.parse(expected)


@pytest.mark.parametrize("host", ["docker://tcp://host", "docker://ssh://me@host", "docker://host"])
def test_a_docker_host_in_another_form_is_refused(host: str) -> None:
    with pytest.raises(DockerError) as refused:
        docker_in_use(host)
    assert str(refused.value) == (
        f"docker host {host.removeprefix('docker://')!r}: expected a unix socket path "
        "(/run/docker.sock), unix:///PATH or tcp://HOST:PORT"
    )


@pytest.fixture
def created(
    docker_host: DockerDaemon, registry: RegistryServer, repo: str, images: ImageFactory
) -> Iterator[tuple[str, str, str]]:
    """A container made with ``docker create`` (never run) from ``repo:v1``; its name and
    the image's digest."""
    image = images.daemon_form()
    push(registry.address, repo, "v1", image)
    client: docker.DockerClient = docker_host.client()
    reference = f"{registry.address}/{repo}:v1"
    client.api.pull(reference)
    container = client.api.create_container(reference, command=["/never-run"])
    name = client.api.inspect_container(container["Id"])["Name"].lstrip("/")
    yield reference, name, image.digest
    client.api.remove_container(container["Id"])
    client.api.remove_image(reference)
    client.close()


@pytest.mark.parametrize("how", ["environment", "socket path", "unix url"])
def test_a_created_container_makes_its_image_in_use(
    how: str, created: tuple[str, str, str], docker_host: DockerDaemon
) -> None:
    reference, name, digest = created
    socket = docker_host.url.removeprefix("unix://")
    value = {"environment": "docker://", "socket path": f"docker://{socket}"}.get(
        how, f"docker://{docker_host.url}"
    )
    found = InUseSet(docker_in_use(value))

    where = f"{value}: container {name} (created)"
    by_tag = ImageReference.parse(reference)
    assert found.uses_of_digest(by_tag.registry, by_tag.repository, digest) == [
        InUse(by_tag.with_digest(digest), where)
    ]
    assert found.uses_of_tag(by_tag.registry, by_tag.repository, "v1") == [InUse(by_tag, where)]


def test_an_unreachable_docker_host_is_an_error() -> None:
    with pytest.raises(DockerError) as failed:
        docker_in_use("docker:///nonexistent/docker.sock")
    assert str(failed.value).startswith(
        "docker daemon unix:///nonexistent/docker.sock: Error while fetching server API version"
    )


def write_context(config_dir: Path, name: str, host: str, *, current: bool = False) -> None:
    """A docker CLI context as ``docker context create NAME --docker host=HOST`` stores it."""
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": False}
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}})
    )
    (config_dir / "config.json").write_text(json.dumps({"currentContext": name} if current else {}))


@pytest.mark.parametrize("chosen_by", ["DOCKER_CONTEXT", "currentContext"])
def test_the_daemon_is_found_through_docker_contexts(
    chosen_by: str,
    created: tuple[str, str, str],
    docker_host: DockerDaemon,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference, _, digest = created
    write_context(tmp_path, "tests", docker_host.url, current=chosen_by == "currentContext")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    if chosen_by == "DOCKER_CONTEXT":
        # As for the docker CLI, a context named in the environment wins over DOCKER_HOST.
        monkeypatch.setenv("DOCKER_CONTEXT", "tests")
        monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    else:
        monkeypatch.delenv("DOCKER_HOST")

    found = InUseSet(docker_in_use("docker://"))

    by_tag = ImageReference.parse(reference)
    assert [
        use.reference for use in found.uses_of_digest(by_tag.registry, by_tag.repository, digest)
    ] == [by_tag.with_digest(digest)]


def test_an_unknown_context_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONTEXT", "nowhere")
    with pytest.raises(DockerError) as failed:
        docker_in_use("docker://")
    assert str(failed.value) == "DOCKER_CONTEXT=nowhere: docker knows no such context"


def test_expire_keeps_the_image_a_created_container_uses(
    docker_host: DockerDaemon,
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address, name = registry.address, f"{registry.address}/{repo}"
    used, unused, fresh = images.oci("used"), images.oci("unused"), images.oci("fresh")
    fresh_stamp = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    push(address, repo, "build-20190101T000000Z", used)
    push(address, repo, "build-20190102T000000Z", unused)
    push(address, repo, f"build-{fresh_stamp}", fresh)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(name=name))
    client = docker_host.client()
    client.api.pull(f"{name}:build-20190101T000000Z")
    container = client.api.create_container(f"{name}:build-20190101T000000Z", command=["/x"])
    container_name = client.api.inspect_container(container["Id"])["Name"].lstrip("/")
    try:
        dry = run_tagmgr(capsys, "expire", "--policy", policy, "--in-use", "docker://", *GATE)
        deleted = run_tagmgr(capsys, "expire", "--policy", policy, "--in-use", "docker://", "--yes")
    finally:
        client.api.remove_container(container["Id"])
        client.api.remove_image(f"{name}:build-20190101T000000Z")
        client.close()

    assert dry.code == 2, dry.out + dry.err
    assert f"in use: docker://: container {container_name} (created)" in dry.out
    assert deleted.code == 0, deleted.out + deleted.err
    assert deleted.out.endswith("\nexpire: 1 deleted, 2 kept, in 1 repository\n")
    assert head_digest(address, repo, used.digest) == used.digest
    assert head_digest(address, repo, unused.digest) is None
