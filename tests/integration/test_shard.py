"""``--shard K/N`` end to end: the shards' plans add up to the whole plan, and a shard runs git
for its own upstreams only (the split itself: tests/unit/reconcile/test_shard.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer


@pytest.mark.integration
def test_the_shards_plans_add_up_to_the_whole_plan(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [f"{registry.address}/{repo}/app-{n}" for n in range(6)]
    for n in range(len(names)):
        push(registry.address, f"{repo}/app-{n}", "build-1", images.oci(str(n)))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"name": n, "src_build_tag": "build-1", "tag": "v1"} for n in names]
    )
    whole = run_tagmgr(capsys, "plan", "--output=json", manifest).json()["entries"]
    parts = []
    for index in range(3):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(index))
        planned = run_tagmgr(
            capsys, "plan", "--output=json", "--detailed-exitcode", "--shard=index/3", manifest
        )
        assert planned.code == (2 if planned.json()["entries"] else 0), planned.err
        parts.append(planned.json()["entries"])
    assert sorted(e["target"] for part in parts for e in part) == sorted(e["target"] for e in whole)
    assert len(whole) == 6


def test_a_shard_describes_only_its_own_upstreams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """app-0 is in shard 1 of 4: another shard never runs git for its upstream (here missing)."""
    entry = {
        "name": "registry.example/team/app-0",
        "src_build_tag": "build-1",
        "tag": "v-{describe}",
        "upstream": {"repo": str(tmp_path / "missing"), "commit": "4f28657"},
    }
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    cache = f"--git-cache={tmp_path / 'cache'}"
    other = run_tagmgr(capsys, "plan", "--shard=0/4", cache, manifest)
    assert (other.code, other.err) == (0, "")
    assert not (tmp_path / "cache").exists()
    own = run_tagmgr(capsys, "plan", "--shard=1/4", cache, manifest)
    assert own.code == 1
    assert "missing" in own.out + own.err
