"""The versions file: update keeps, unpins and leaves alone; release tags once; export prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_diff import first_build, first_layers, noisy_rebuild
from tests.support.e2e import GATE, run_tagmgr
from tests.support.layers import Layer, build_image, file
from tests.support.push import head_digest, open_client, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

VERSIONS = """\
# yaml-language-server: $schema=../schemas/versions.schema.json
images:
- name: docker.io/{repo}/api     # rebuilt, nothing changed
  version: v1.2.3
- name: docker.io/{repo}/web
  pin: auto
  version: "v1.2.3"   # rebuilt with a new page
- {{name: docker.io/{repo}/db, version: v0.9.0, pin: manual}}\r
"""


def tags(registry: RegistryServer, repository: str) -> list[str]:
    with open_client(registry.address) as client:
        response = client.get(f"/v2/{repository}/tags/list")
    return sorted(response.json()["tags"]) if response.status_code == 200 else []


def all_tags(registry: RegistryServer, repo: str) -> dict[str, list[str]]:
    return {name: tags(registry, f"{repo}/{name}") for name in ("api", "web", "db")}


def test_update_then_release_then_release_again(
    registry: RegistryServer, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = registry.address
    web_change = build_image([*first_layers(), Layer([file("srv/index.html", "<h1>new</h1>")])])
    push(address, f"{repo}/api", "v1.2.3", first_build())
    push(address, f"{repo}/api", "b42", noisy_rebuild())
    push(address, f"{repo}/web", "v1.2.3", first_build())
    push(address, f"{repo}/web", "b42", web_change)
    push(address, f"{repo}/db", "v0.9.0", first_build())
    push(address, f"{repo}/db", "b42", web_change)
    path = tmp_path / "versions.yaml"
    original = VERSIONS.format(repo=repo)
    path.write_bytes(original.encode())
    mapping = f"--map-registry=docker.io={address}"

    dry = run_tagmgr(capsys, "versions", "update", path, "--build", "b42", mapping, *GATE)
    assert dry.code == 2, dry.err
    assert dry.out.splitlines()[:3] == [
        f"keep      docker.io/{repo}/api  v1.2.3  (build equivalent)",
        f"unpin     docker.io/{repo}/web  v1.2.3 -> null  (build changed)",
        "          file-added srv/index.html: file",
    ]
    assert dry.out.splitlines()[3:] == [
        f"manual    docker.io/{repo}/db  v0.9.0",
        "",
        "versions update: 1 keep, 1 manual, 1 unpin; nothing written (--write to write)",
    ]
    assert path.read_bytes() == original.encode()

    written = run_tagmgr(capsys, "versions", "update", path, "--build", "b42", mapping, "--write")
    assert written.code == 0, written.err
    unpinned = original.replace('version: "v1.2.3"   #', "version: null   #")
    assert path.read_bytes() == unpinned.encode()

    before = all_tags(registry, repo)
    planned = run_tagmgr(
        capsys, "versions", "release", path, "v1.3.0", "--build", "b42", mapping, *GATE
    )
    assert planned.code == 2, planned.out + planned.err
    assert all_tags(registry, repo) == before
    assert path.read_bytes() == unpinned.encode()

    released = run_tagmgr(
        capsys, "versions", "release", path, "v1.3.0", "--build", "b42", mapping, "--write"
    )
    assert released.code == 0, released.out + released.err
    after = all_tags(registry, repo)
    assert after == {**before, "web": sorted([*before["web"], "v1.3.0"])}
    assert head_digest(address, f"{repo}/web", "v1.3.0") == web_change.digest
    pinned = original.replace('version: "v1.2.3"   #', "version: v1.3.0   #")
    assert path.read_bytes() == pinned.encode()

    again = run_tagmgr(
        capsys, "versions", "release", path, "v1.3.0", "--build", "b42", mapping, "--write"
    )
    assert again.code == 0, again.out + again.err
    assert again.out.splitlines()[-1] == "versions release: 2 keep, 1 manual; nothing to change"
    assert all_tags(registry, repo) == after
    assert path.read_bytes() == pinned.encode()

    exported = run_tagmgr(capsys, "versions", "export", path, "--format", "env")
    assert (
        exported.out == 'export API_VER="v1.2.3"\nexport WEB_VER="v1.3.0"\nexport DB_VER="v0.9.0"\n'
    )


def test_update_reports_a_missing_build_and_writes_nothing(
    registry: RegistryServer, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push(registry.address, f"{repo}/api", "v1.2.3", first_build())
    path = tmp_path / "versions.yaml"
    path.write_text(f"images:\n- name: {registry.address}/{repo}/api\n  version: v1.2.3\n")
    result = run_tagmgr(
        capsys, "versions", "update", path, "--build", "b43", "--write", "--output", "json"
    )
    assert result.code == 1
    entry = result.json()["entries"][0]
    assert (entry["step"], entry["message"]) == (
        "error",
        f"{registry.address}/{repo}/api:b43 does not exist",
    )
    assert (
        path.read_text() == f"images:\n- name: {registry.address}/{repo}/api\n  version: v1.2.3\n"
    )
