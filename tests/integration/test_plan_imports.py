"""`tagmgr plan` of a manifest with no tag to describe is CI's most common run: it must not import
git or the process layer (subprocess, ctypes), which only describing a tag or a credential
helper needs; their imports were 3 % of the instructions of a plan of 60 present entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer
from tests.unit.commands.test_light_imports import among, fresh_run

pytestmark = pytest.mark.integration

UNUSED = ("subprocess", "ctypes", "tagmgr.git", "tagmgr.system.process", "tagmgr.engines.skopeo")


def test_plan_imports_no_git_or_process_layer(
    registry: RegistryServer, images: ImageFactory, repo: str, tmp_path: Path
) -> None:
    push(registry.address, repo, "build-1", images.oci())
    manifest = tmp_path / "plan.yaml"
    manifest.write_text(
        f"images:\n- name: {registry.address}/{repo}\n  src_build_tag: build-1\n  tag: v1\n",
        encoding="utf-8",
    )
    code, _, loaded = fresh_run("plan", str(manifest))
    assert (code, among(loaded, UNUSED)) == (0, [])
