"""`tagmgr plan` of a manifest with no tag to describe is CI's most common run: it must not import
git or the process layer (subprocess, ctypes), which only describing a tag or a credential
helper needs; their imports were 3 % of the instructions of a plan of 60 present entries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

UNUSED = ("subprocess", "ctypes", "tagmgr.git", "tagmgr.system.process", "tagmgr.engines.skopeo")

# A fresh interpreter: this test process has imported everything already.
PROBE = """
import json, sys
from tagmgr.cli import main
code = main(["plan", *sys.argv[1:]])
print(json.dumps({"code": code, "loaded": sorted(sys.modules)}))
"""


def test_plan_imports_no_git_or_process_layer(
    registry: RegistryServer, images: ImageFactory, repo: str, tmp_path: Path
) -> None:
    push(registry.address, repo, "build-1", images.oci())
    manifest = tmp_path / "plan.yaml"
    manifest.write_text(
        f"images:\n- name: {registry.address}/{repo}\n  src_build_tag: build-1\n  tag: v1\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(manifest)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    loaded = [m for m in result["loaded"] if any(m == u or m.startswith(f"{u}.") for u in UNUSED)]
    assert loaded == []
