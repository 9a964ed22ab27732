"""pin-refs end to end, with digests read from a real docker-registry on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import DRY_RUN_NOTE, one_entry_manifest, run_tagmgr
from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def test_pin_refs_with_digests_from_the_registry_pins_the_index_digest(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = images.index()
    push(registry.address, repo, "build-1", index)
    name = f"{registry.address}/{repo}"
    manifest = one_entry_manifest(tmp_path / "m.yaml", name)
    assert run_tagmgr(capsys, "apply", "--yes", manifest).code == 0
    values = tmp_path / "values.yaml"
    values.write_text(f"app:\n  image: {name}:build-1  # built by CI\n")
    result = run_tagmgr(capsys, "pin-refs", "--manifest", manifest, "--digest", "--dry-run", values)
    assert (result.code, result.err) == (0, DRY_RUN_NOTE)
    assert result.out == (
        f"--- a/{values}\n+++ b/{values}\n@@ -1,2 +1,2 @@\n app:\n"
        f"-  image: {name}:build-1  # built by CI\n"
        f"+  image: {name}:v1@{index.digest}  # built by CI\n"
    )
