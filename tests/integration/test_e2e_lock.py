"""lock and check end to end, against a real docker-registry on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.e2e import one_entry_manifest, run_tagmgr
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, open_client, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


def test_lock_check_moved_update_and_a_byte_identical_relock(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = images.index("first"), images.oci("second")
    name = f"{registry.address}/{repo}"
    push(registry.address, repo, "build-1", first)
    manifest = one_entry_manifest(tmp_path / "m.yaml", name)
    lock_path = tmp_path / "tagmgr.lock"
    applied = run_tagmgr(capsys, "apply", "--yes", "--lock", lock_path, manifest)
    assert applied.code == 0, applied.err
    locked = json.loads(lock_path.read_text())["entries"]
    assert [(e["target"], e["digest"]) for e in locked] == [(f"{name}:v1", first.digest)]
    assert [p["digest"] for p in locked[0]["platforms"]] == [c.digest for c in first.children]
    before = lock_path.read_bytes()

    relocked = run_tagmgr(capsys, "lock", manifest, "--lock-file", lock_path)
    assert (relocked.code, relocked.out) == (0, f"{lock_path}: 1 entries, unchanged\n")
    assert lock_path.read_bytes() == before

    calm = run_tagmgr(capsys, "check", lock_path)
    assert (calm.code, calm.out) == (
        0,
        f"unchanged  {name}:v1  {first.digest}\n"
        f"unchanged  {name}:build-1  {first.digest}  (source of {name}:v1)\n\n"
        "check: 2 unchanged, 0 moved, 0 gone, 0 sources moved, 0 sources gone, 0 errors\n",
    )

    push(registry.address, repo, "v1", second)  # someone moves the locked tag
    moved = run_tagmgr(capsys, "check", lock_path)
    assert (moved.code, moved.out) == (
        2,
        f"moved      {name}:v1  {first.digest} -> {second.digest}\n"
        f"unchanged  {name}:build-1  {first.digest}  (source of {name}:v1)\n\n"
        "check: 1 unchanged, 1 moved, 0 gone, 0 sources moved, 0 sources gone, 0 errors\n"
        f"\nproblems:\n  {name}:v1 moved from {first.digest} to {second.digest}\n",
    )
    assert lock_path.read_bytes() == before

    updated = run_tagmgr(capsys, "check", "--update", "--yes", lock_path)
    assert updated.code == 2
    assert "0 sources gone, 0 errors; the lock file was updated\n\nproblems:\n" in updated.out
    entry = json.loads(lock_path.read_text())["entries"][0]
    assert (entry["digest"], entry["platforms"]) == (second.digest, [])
    # The build tag did not move with it: it stays locked where it was, and still checked.
    assert entry["source"] == f"{name}:build-1@{first.digest}"
    assert run_tagmgr(capsys, "check", lock_path).code == 0


def test_check_catches_a_build_tag_pushed_again_and_update_refuses_to_follow_it(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    built, rebuilt = images.oci("built"), images.oci("rebuilt")
    name = f"{registry.address}/{repo}"
    push(registry.address, repo, "build-1", built)
    lock_path = tmp_path / "tagmgr.lock"
    manifest = one_entry_manifest(tmp_path / "m.yaml", name)
    assert run_tagmgr(capsys, "apply", "--yes", "--lock", lock_path, manifest).code == 0
    before = lock_path.read_bytes()

    push(registry.address, repo, "build-1", rebuilt)  # a rebuilt (or tampered) source
    caught = run_tagmgr(capsys, "check", lock_path)
    assert (caught.code, caught.out) == (
        2,
        f"unchanged  {name}:v1  {built.digest}\n"
        f"source-moved {name}:build-1  {built.digest} -> {rebuilt.digest}  (source of {name}:v1)\n"
        "\ncheck: 1 unchanged, 0 moved, 0 gone, 1 sources moved, 0 sources gone, 0 errors\n"
        f"\nproblems:\n  {name}:build-1, the source of {name}:v1, moved from {built.digest}"
        f" to {rebuilt.digest}\n",
    )
    found = run_tagmgr(capsys, "check", lock_path, "--output", "json").json()
    assert [
        (e["checked"], e["state"], e["locked_digest"], e["digest"]) for e in found["entries"]
    ] == [
        ("target", "unchanged", built.digest, built.digest),
        ("source", "source-moved", built.digest, rebuilt.digest),
    ]
    assert found["summary"]["source-moved"] == 1

    refused = run_tagmgr(capsys, "check", "--update", "--yes", lock_path)
    assert refused.code == 2
    assert refused.err == (
        f"tagmgr: error: {name}:build-1, the source of {name}:v1, moved ({built.digest} ->"
        f" {rebuilt.digest}); --update does not follow a build tag: one that moved is a rebuilt"
        " or tampered source, not a new release. The entry was left as it was: find out who"
        " pushed it, then put the tag back or lock a new build\n"
    )
    assert lock_path.read_bytes() == before

    push(registry.address, repo, "build-1", built)  # put back: nothing to say
    assert run_tagmgr(capsys, "check", lock_path).code == 0


def test_a_build_tag_gone_is_said_and_one_by_digest_is_not_checked(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Sources in a build repository of their own: retention there removed one build."""
    image = images.oci()
    name, builds = f"{registry.address}/{repo}", f"{registry.address}/{repo}-builds"
    for where, tag in ((repo, "v1"), (repo, "v2"), (f"{repo}-builds", "build-1")):
        push(registry.address, where, tag, image)
    entries = [
        {"source": f"{builds}:build-1", "target": f"{name}:v1"},
        {"source": f"{builds}@{image.digest}", "target": f"{name}:v2"},
    ]
    lock_path = tmp_path / "tagmgr.lock"
    lock_path.write_text(
        json.dumps(
            {
                "format": "tagmgr.lock/v1",
                "entries": [
                    {
                        **entry,
                        "digest": image.digest,
                        "media_type": image.media_type,
                        "platforms": [],
                        "resolved_at": "2026-12-01T10:00:00Z",
                    }
                    for entry in entries
                ],
            }
        )
    )
    with open_client(registry.address) as client:
        deleted = client.delete(f"/v2/{repo}-builds/manifests/{image.digest}")
    assert deleted.status_code == 202
    gone = run_tagmgr(capsys, "check", lock_path)
    assert (gone.code, gone.out) == (
        0,
        f"unchanged  {name}:v1  {image.digest}\n"
        f"source-gone {builds}:build-1  was {image.digest}  (source of {name}:v1)\n"
        f"unchanged  {name}:v2  {image.digest}\n"
        "\ncheck: 2 unchanged, 0 moved, 0 gone, 0 sources moved, 1 sources gone, 0 errors\n",
    )


def test_apply_with_a_lock_it_cannot_read_creates_nothing(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    """The lock is read before the first write: tags created, then a broken lock, left no
    report of what was created."""
    push(registry.address, repo, "build-1", ImageFactory("lock-first").oci())
    manifest = one_entry_manifest(tmp_path / "m.yaml", f"{registry.address}/{repo}")
    lock = tmp_path / "tagmgr.lock"
    lock.write_text('{"format": "1", "entries": [\n')
    done = run_tagmgr(capsys, "apply", "--yes", "--lock", lock, manifest)
    assert done.code == 1
    assert f"{lock}:" in done.err
    assert head_digest(registry.address, repo, "v1") is None


def test_a_lock_made_through_a_mirror_names_the_manifests_registry(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--map-registry says which registry to ask; the lock, read through the same map, keeps
    the names the manifest gives, so one lock serves the mirror and the registry alike."""
    image = images.oci()
    push(registry.address, repo, "build-1", image)
    manifest = one_entry_manifest(tmp_path / "m.yaml", f"registry.example.com/{repo}")
    lock_path = tmp_path / "tagmgr.lock"
    mirror = f"--map-registry=registry.example.com={registry.address}"
    applied = run_tagmgr(capsys, "apply", "--yes", mirror, "--lock", lock_path, manifest)
    assert applied.code == 0, applied.err
    [locked] = json.loads(lock_path.read_text())["entries"]
    assert (locked["source"], locked["target"]) == (
        f"registry.example.com/{repo}:build-1",
        f"registry.example.com/{repo}:v1",
    )
    relocked = run_tagmgr(capsys, "lock", mirror, manifest, "--lock-file", lock_path)
    assert (relocked.code, relocked.out) == (0, f"{lock_path}: 1 entries, unchanged\n")
    checked = run_tagmgr(capsys, "check", mirror, lock_path)
    assert checked.code == 0, checked.out
