"""versions with each build on this machine: update compares a Docker daemon's image with the
registry's pinned release without pushing it; release pushes only what it pins, digest kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_diff import first_build
from tests.integration.test_diff_local import changed_build, load
from tests.integration.test_versions import tags
from tests.support.dockerd import DockerDaemon
from tests.support.e2e import GATE, run_tagmgr
from tests.support.local import docker_archive
from tests.support.oci import write_oci_layout
from tests.support.push import head_digest, open_client, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def config_digest(address: str, repository: str, tag: str) -> str:
    with open_client(address) as client:
        response = client.get(
            f"/v2/{repository}/manifests/{tag}",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
    return str(json.loads(response.content)["config"]["digest"])


def test_update_and_release_from_a_docker_daemon(
    registry: RegistryServer,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    docker_host: DockerDaemon,
) -> None:
    address, local = registry.address, repo.replace("/", "-")
    for name in ("api", "web"):
        push(address, f"{repo}/{name}", "v1.2.3", first_build())
    load(docker_host, docker_archive(first_build(), tmp_path / "a.tar", [f"{local}-api:b43"]))
    load(docker_host, docker_archive(changed_build(), tmp_path / "w.tar", [f"{local}-web:b43"]))
    path = tmp_path / "versions.yaml"
    original = (
        "images:\n"
        f"- name: docker.io/{repo}/api\n  version: v1.2.3\n"
        f"  local: docker-daemon:{local}-api:{{build}}\n"
        f"- name: docker.io/{repo}/web\n  version: v1.2.3   # the page changed\n"
        f"  local: 'docker-daemon:{local}-web:{{build}}'\n"
    )
    path.write_text(original)
    mapping = f"--map-registry=docker.io={address}"
    before = {name: tags(registry, f"{repo}/{name}") for name in ("api", "web")}

    update = run_tagmgr(
        capsys, "versions", "update", path, "--build", "b43", "--local", mapping, *GATE
    )
    assert update.code == 2, update.err
    assert update.out.splitlines() == [
        f"keep      docker.io/{repo}/api  v1.2.3  (build equivalent)",
        f"unpin     docker.io/{repo}/web  v1.2.3 -> null  (build changed)",
        "          file-modified etc/app.conf: content sha256:8ac56ba2b165 -> sha256:da2787073fb3",
        "",
        "versions update: 1 keep, 1 unpin; nothing written (--write to write)",
    ]
    assert {name: tags(registry, f"{repo}/{name}") for name in ("api", "web")} == before
    written = run_tagmgr(
        capsys, "versions", "update", path, "--build", "b43", "--local", mapping, "--write"
    )
    assert written.code == 0, written.err
    unpinned = original.replace("version: v1.2.3   #", "version: null   #")
    assert path.read_text() == unpinned

    args = ("versions", "release", path, "v1.3.0", "--build", "b43", "--local", mapping)
    planned = run_tagmgr(capsys, *args, *GATE)
    assert planned.code == 2, planned.out + planned.err
    assert {name: tags(registry, f"{repo}/{name}") for name in ("api", "web")} == before
    released = run_tagmgr(capsys, *args, "--write", "--output", "json")
    assert released.code == 0, released.out + released.err
    assert tags(registry, f"{repo}/api") == ["v1.2.3"]
    assert tags(registry, f"{repo}/web") == ["v1.2.3", "v1.3.0"]
    image_id = docker_host.client().images.get(f"{local}-web:b43").id
    assert config_digest(address, f"{repo}/web", "v1.3.0") == image_id
    (_, web) = released.json()["entries"]
    assert (web["step"], web["result"], web["version"]) == ("pin", "created", "v1.3.0")
    assert web["source_digest"] == head_digest(address, f"{repo}/web", "v1.3.0")
    assert path.read_text() == original.replace("version: v1.2.3   #", "version: v1.3.0   #")

    again = run_tagmgr(capsys, *args, "--write")
    assert again.code == 0, again.err
    assert again.out.splitlines()[-1] == "versions release: 2 keep; nothing to change"


def test_release_from_an_oci_layout_keeps_its_digest_and_never_moves_a_tag(
    registry: RegistryServer, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = registry.address
    build = changed_build()
    layout = write_oci_layout(build, tmp_path / "layout", "b43")
    push(address, f"{repo}/taken", "v1.3.0", first_build())
    path = tmp_path / "versions.yaml"
    path.write_text(
        f"images:\n- name: {address}/{repo}/app\n  local: oci:{layout}:{{build}}\n"
        f"- name: {address}/{repo}/taken\n  local: oci:{layout}:{{build}}\n"
    )
    result = run_tagmgr(
        capsys, "versions", "release", path, "v1.3.0", "--build", "b43", "--local", "--write"
    )
    assert result.code == 1, result.out
    assert head_digest(address, f"{repo}/app", "v1.3.0") == build.digest
    assert head_digest(address, f"{repo}/taken", "v1.3.0") == first_build().digest
    lines = result.out.splitlines()
    assert lines[0] == (
        f"pin       {address}/{repo}/app  (unpinned) -> v1.3.0  (created at {build.digest[:19]})"
    )
    assert lines[3] == (
        f"          {address}/{repo}/taken:v1.3.0 already points at {first_build().digest}, "
        f"which is not oci:{layout}:b43 (manifest digest {build.digest}); an existing tag is "
        "never moved"
    )
    assert f"name: {address}/{repo}/app\n  version: v1.3.0\n" in path.read_text()
