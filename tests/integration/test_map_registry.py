"""``--map-registry docker.io=MIRROR``: every command with a reference asks the mirror, for the
references in its files and on its command line alike.

The test registry on 127.0.0.1 stands in for docker.io; every name below says docker.io (or
leaves it implied, as Docker does). Anything sent to docker.io itself would go through a proxy
that refuses every connection, so a reference the map missed fails at once instead of reaching
out of the machine.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagmgr.commands import lifecycle_run
from tagmgr.registry.proxy import LOOPBACK_VARIABLE
from tests.support.e2e import GATE, Run, run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

POLICY = """\
repositories: [docker.io/{repo}]
rules:
- rulePriority: 1
  selection: {{tagStatus: any, countType: imageCountMoreThan, countNumber: 1}}
  action: {{type: expire}}
"""


@pytest.fixture
def nowhere_but_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker.io is reachable only through a proxy on a port nothing listens on."""
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy", LOOPBACK_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each promotion one minute after the last, so history tags never share a second."""
    times = [datetime(2026, 11, 1, 8, 0, tzinfo=UTC)]

    def tick() -> datetime:
        times.append(times[-1] + timedelta(minutes=1))
        return times[-1]

    monkeypatch.setattr(lifecycle_run, "now", tick)


def ok(result: Run, code: int = 0) -> Run:
    assert result.code == code, result.out + result.err
    return result


@pytest.mark.usefixtures("nowhere_but_the_mirror")
def test_every_command_with_a_reference_asks_the_mirror(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mirror = registry.address
    first, second = images.oci("first"), images.oci("second")
    push(mirror, repo, "build-1", first)
    push(mirror, repo, "build-2", second)
    mapping = f"--map-registry=docker.io={mirror}"
    hub = f"docker.io/{repo}"

    def tagmgr(*args: str | Path, code: int = 0) -> Run:
        return ok(run_tagmgr(capsys, *args, mapping), code)

    resolved = tagmgr("resolve", f"{repo}:build-1", f"{hub}:build-2")
    assert [line.split()[:2] for line in resolved.out.splitlines()] == [
        [f"{mirror}/{repo}:build-1", first.digest],
        [f"{mirror}/{repo}:build-2", second.digest],
    ]

    source = "https://opendev.org/starlingx/integ/commit/dac417bd"
    manifest = write_manifest(
        tmp_path / "images.yaml",
        [{"name": hub, "src_build_tag": "build-1", "tag": "v1", "src_ref": source}],
    )
    assert tagmgr("plan", manifest).out.startswith(f"create          {mirror}/{repo}:v1")
    tagmgr("apply", "--yes", manifest)
    assert head_digest(mirror, repo, "v1") == first.digest
    assert tagmgr("resolve", "--manifest", manifest).out.count(first.digest) == 2
    lock = tmp_path / "tagmgr.lock"
    tagmgr("lock", "--lock-file", lock, "--yes", manifest)
    tagmgr("check", lock)

    values = tmp_path / "values.yaml"
    values.write_text(f"image: {hub}:v1\n")
    pinned = tagmgr("pin-refs", "--manifest", manifest, "--digest", *GATE, values, code=2)
    assert f"+image: {hub}:v1@{first.digest}" in pinned.out

    tagmgr("promote", f"{hub}:build-1", "--to", "dev", "--yes")
    tagmgr("promote", f"{hub}@{second.digest}", "--to", "dev", "--yes")
    assert head_digest(mirror, repo, "dev") == second.digest
    tagmgr("rollback", hub, "--env", "dev", "--yes")
    assert head_digest(mirror, repo, "dev") == first.digest

    status = tagmgr("status", hub, "--manifest", manifest, "--in-use", values, "--output", "json")
    [dev, *_] = status.json()["repositories"][0]["environments"]
    assert (dev["digest"], dev["src_refs"]) == (first.digest, [source])
    assert dev["in_use"] == [f"{values}:1:8: image"]

    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(repo=repo))
    expiring = run_tagmgr(
        capsys,
        "expire",
        "--policy",
        policy,
        "--in-use",
        values,
        "--keep-newer-than",
        "0",
        "--output",
        "json",
        "--dry-run",
        mapping,
    )
    assert expiring.code == 0, expiring.err
    [surveyed] = expiring.json()["repositories"]
    assert surveyed["name"] == f"{mirror}/{repo}"
    decided = {image["digest"]: image for image in surveyed["images"]}
    assert decided[first.digest]["action"] == "keep"

    same = tagmgr("diff", f"{hub}:build-1", f"{hub}:v1")
    assert same.out.startswith("identical:")


@pytest.mark.usefixtures("nowhere_but_the_mirror")
def test_without_the_map_docker_io_is_not_reached(
    repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guard above works: an unmapped docker.io reference fails, and fails fast."""
    result = run_tagmgr(capsys, "resolve", f"{repo}:build-1")
    assert result.code == 1
    assert "registry docker.io: " in result.out
    assert json.dumps(result.out)  # printable, no traceback
