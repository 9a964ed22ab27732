"""The team's shell versions file end to end: update unpins, release tags and pins, and every
byte but the values stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_diff import first_build, noisy_rebuild
from tests.integration.test_diff_local import changed_build
from tests.integration.test_versions import tags
from tests.support.e2e import run_tagmgr
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def test_update_then_release_a_shell_versions_file(
    registry: RegistryServer, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = registry.address
    push(address, f"{repo}/api", "v3.1.0", first_build())
    push(address, f"{repo}/api", "b7", noisy_rebuild())
    push(address, f"{repo}/web", "v2.0.1", first_build())
    push(address, f"{repo}/web", "b7", changed_build())
    push(address, f"{repo}/db", "b7", changed_build())
    image_map = tmp_path / "images.yaml"
    image_map.write_text(
        "variables:\n"
        f"  svcbgsapi_VER: {{name: docker.io/{repo}/api}}\n"
        f"  svcweb_VER: {{name: docker.io/{repo}/web}}\n"
        f"  svcdb_VER: {{name: docker.io/{repo}/db}}\n"
    )
    original = (
        "# versions\r\n"
        'svcbgsapi_VER="v3.1.0"\r\n'
        ": ${svcweb_VER:=v0}\r\n"
        "svcweb_VER='v2.0.1'   # the page\r\n"
        'export svcdb_VER="v0.9.0"'
    )
    path = tmp_path / "versions.sh"
    path.write_bytes(original.encode())
    common = ("--build", "b7", f"--map-registry=docker.io={address}", "--image-map", image_map)

    update = run_tagmgr(capsys, "versions", "update", path, *common, "--write")
    assert update.code == 0, update.err
    assert update.out.splitlines()[:3] == [
        f"keep      docker.io/{repo}/api  v3.1.0  (build equivalent)",
        f"unpin     docker.io/{repo}/web  v2.0.1 -> null  (build changed)",
        "          file-modified etc/app.conf: content sha256:8ac56ba2b165 -> sha256:da2787073fb3",
    ]
    unpinned = original.replace("svcweb_VER='v2.0.1'", "svcweb_VER=''")
    assert path.read_bytes() == unpinned.encode()

    release = run_tagmgr(capsys, "versions", "release", path, "v2.1.0", *common, "--write")
    assert release.code == 0, release.out + release.err
    assert head_digest(address, f"{repo}/web", "v2.1.0") == changed_build().digest
    assert tags(registry, f"{repo}/db") == ["b7"]  # a manual pin is never released
    pinned = original.replace("svcweb_VER='v2.0.1'", "svcweb_VER='v2.1.0'")
    assert path.read_bytes() == pinned.encode()
    json_out = run_tagmgr(capsys, "versions", "update", path, *common, "--output", "json")
    assert [(e["entry"], e["step"]) for e in json_out.json()["entries"]] == [
        ("svcbgsapi_VER", "keep"),
        ("svcweb_VER", "keep"),
        ("svcdb_VER", "manual"),
    ]
