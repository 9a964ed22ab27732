"""A release file that starts with every entry commented out: valid, and it holds up no one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

Capture = pytest.CaptureFixture[str]
PLACEHOLDER = """\
tag_prefix: "stx.5.0-"
images:
# - name: docker.io/starlingx/k8s-cni-sriov
#   src_build_tag: master-centos-stable-20191203T153530Z.0
"""


@pytest.fixture
def placeholder(tmp_path: Path) -> Path:
    path = tmp_path / "stx.5.0.yaml"
    path.write_text(PLACEHOLDER, encoding="utf-8")
    return path


def test_validate_says_ok_with_no_images(
    placeholder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_tagmgr(capsys, "validate", placeholder)
    assert (result.code, result.out, result.err) == (0, f"{placeholder}: ok (0 images)\n", "")
    as_json = run_tagmgr(capsys, "validate", "--output=json", placeholder).json()
    assert as_json["files"] == [{"file": str(placeholder), "images": 0}]


def test_plan_and_apply_do_the_other_files(
    placeholder: Path, registry: RegistryServer, repo: str, images: ImageFactory, capsys: Capture
) -> None:
    released = write_manifest(
        placeholder.with_name("stx.4.0.yaml"),
        [{"name": f"{registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}],
    )
    image = images.oci()
    push(registry.address, repo, "build-1", image)
    planned = run_tagmgr(
        capsys, "plan", "--output=json", "--detailed-exitcode", placeholder, released
    )
    assert planned.code == 2, planned.err
    assert [(e["file"], e["action"]) for e in planned.json()["entries"]] == [
        (str(released), "create")
    ]
    applied = run_tagmgr(capsys, "apply", "--yes", placeholder, released)
    assert applied.code == 0, applied.out + applied.err
    assert "apply: 1 created, 0 present, 0 failed" in applied.out
    assert head_digest(registry.address, repo, "v1") == image.digest
    alone = run_tagmgr(capsys, "apply", "--yes", placeholder)
    assert (alone.code, alone.err) == (0, "")
    assert "apply: 0 created, 0 present, 0 failed" in alone.out
