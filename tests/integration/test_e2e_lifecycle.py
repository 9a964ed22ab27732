"""promote, status and rollback end to end: the real CLI against a real docker-registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagmgr.commands import lifecycle_run as run
from tests.integration.test_cli import TAGMGR, answer, child_env, on_a_terminal
from tests.support.e2e import run_tagmgr
from tests.support.oci import ImageFactory, single
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Each reading of the clock one minute after the last (a promotion reads it when planned and
    when its history tag is written), so history tags never share a second."""
    times = [START]

    def tick() -> datetime:
        times.append(times[-1] + timedelta(minutes=1))
        return times[-1]

    monkeypatch.setattr(run, "now", tick)
    return times


def stamp(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y%m%dT%H%M%SZ")


def test_promote_through_the_chain_then_status_and_rollback(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    first, second = images.index("first"), images.oci("second")
    push(registry.address, repo, "build-20261031T120000Z", first)
    push(registry.address, repo, "build-20261101T120000Z", second)
    name = f"{registry.address}/{repo}"

    skipped = run_tagmgr(
        capsys, "promote", f"{name}:build-20261031T120000Z", "--to", "stg", "--yes"
    )
    assert skipped.code == 1
    assert skipped.err == (
        f"tagmgr: error: {name}@{first.digest} was never in dev, the environment before the one"
        " asked for (dev is not set, and no dev history tag points at it);"
        " promote it to dev first\n"
    )
    assert head_digest(registry.address, repo, "stg") is None

    dry = run_tagmgr(capsys, "promote", f"{name}@{first.digest}", "--to", "dev", "--dry-run")
    assert (dry.code, dry.out) == (
        0,
        f"planned    {name}:dev -> {first.digest} (was nothing)\n"
        f"           history tag dev-{stamp(2)}; allowed: dev is the first environment of"
        " dev,stg,prd\n",
    )
    assert head_digest(registry.address, repo, "dev") is None

    for env in ("dev", "stg", "prd"):
        promoted = run_tagmgr(capsys, "promote", f"{name}@{first.digest}", "--to", env, "--yes")
        assert promoted.code == 0, promoted.err
    for env in ("dev", "stg", "prd"):
        promoted = run_tagmgr(
            capsys, "promote", f"{name}:build-20261101T120000Z", "--to", env, "-y"
        )
        assert promoted.code == 0, promoted.err
    assert head_digest(registry.address, repo, "prd") == second.digest
    assert head_digest(registry.address, repo, f"prd-{stamp(8)}") == first.digest
    assert head_digest(registry.address, repo, f"prd-{stamp(14)}") == second.digest

    again = run_tagmgr(capsys, "promote", f"{name}@{second.digest}", "--to", "prd")
    assert (again.code, again.err) == (0, "")  # nothing to move, so nothing to confirm
    assert again.out.startswith(f"present    {name}:prd -> {second.digest}")

    manifest = tmp_path / "images.yaml"
    manifest.write_text(
        f"images:\n- name: {name}\n  src_build_tag: build-20261101T120000Z\n"
        "  src_ref: https://opendev.org/starlingx/integ/commit/dac417bd\n  tag: v2.0\n"
    )
    pods = tmp_path / "pods.json"  # where does prd's digest run? (kubectl get pods -A -o json)
    running = {"name": "web", "image": f"{name}:prd", "imageID": f"{name}@{second.digest}"}
    pod = {"kind": "Pod", "metadata": {"namespace": "shop", "name": "web-1"}}
    pods.write_text(
        json.dumps({"kind": "List", "items": [{**pod, "status": {"containerStatuses": [running]}}]})
    )
    status = run_tagmgr(
        capsys, "status", name, "--manifest", manifest, "--in-use", pods, "--output", "json"
    )
    prd = status.json()["repositories"][0]["environments"][2]
    assert prd == {
        "environment": "prd",
        "digest": second.digest,
        "since": f"prd-{stamp(14)}",
        "build_tags": ["build-20261101T120000Z"],
        "release_tags": [],
        "src_refs": ["https://opendev.org/starlingx/integ/commit/dac417bd"],
        "history": [
            {"tag": f"prd-{stamp(8)}", "digest": first.digest},
            {"tag": f"prd-{stamp(14)}", "digest": second.digest},
        ],
        # what the container runs (imageID), and the image: its status names, as any file's
        "in_use": [
            f"{pods}: shop/web-1/web",
            f"{pods}:1:155: items[0].status.containerStatuses[0].image",
        ],
    }

    rolled = run_tagmgr(capsys, "rollback", name, "--env", "prd", "--yes", "--output", "json")
    assert rolled.code == 0, rolled.err
    assert rolled.json()["promotion"] == {
        "move": "rollback",
        "source": f"{name}@{first.digest}",
        "repository": name,
        "environment": "prd",
        "digest": first.digest,
        "previous_digest": second.digest,
        "history_tag": f"prd-{stamp(17)}",
        "copy": False,
        "reason": f"prd-{stamp(8)} recorded it in prd",
        "signed_by": [],
        "result": "rolled-back",
        "now": {"digest": first.digest, "history_tag": f"prd-{stamp(17)}"},
    }
    assert head_digest(registry.address, repo, "prd") == first.digest
    assert head_digest(registry.address, repo, f"prd-{stamp(17)}") == first.digest
    text = run_tagmgr(capsys, "status", name)
    assert text.out.splitlines()[-5:] == [  # the history, newest first: what rollback --to takes
        f"  prd    {first.digest}  since prd-{stamp(17)}",
        "         build: build-20261031T120000Z",
        f"         history: prd-{stamp(17)}  {first.digest}",
        f"                  prd-{stamp(14)}  {second.digest}",
        f"                  prd-{stamp(8)}  {first.digest}",
    ]


def test_promote_into_another_repository_keeps_the_digest_and_carries_the_signature(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    image = images.index()
    signature = single(f"{images.prefix}#signature")
    signature_tag = f"sha256-{image.digest.removeprefix('sha256:')}.sig"
    push(registry.address, repo, "build-1", image)
    push(registry.address, repo, signature_tag, signature)
    name, other = f"{registry.address}/{repo}", f"{registry.address}/{repo}-prd"
    assert (
        run_tagmgr(
            capsys, "promote", f"{name}:build-1", "--to", "stg", "--chain", "stg,prd", "--yes"
        ).code
        == 0
    )

    promoted = run_tagmgr(
        capsys,
        "promote",
        f"{name}@{image.digest}",
        "--to",
        "prd",
        "--chain",
        "stg,prd",
        "--to-repository",
        other,
        "--yes",
    )
    assert promoted.code == 0, promoted.err
    assert (
        promoted.out.splitlines()[-1]
        == f"{'':<10} copied first from {name}@{image.digest}, digest kept"
    )
    target = f"{repo}-prd"
    assert head_digest(registry.address, target, "prd") == image.digest
    assert head_digest(registry.address, target, f"prd-{stamp(4)}") == image.digest
    assert head_digest(registry.address, target, signature_tag) == signature.digest
    for child in image.children:
        assert head_digest(registry.address, target, child.digest) == child.digest


def test_promote_asks_on_a_terminal_and_no_moves_nothing(
    registry: RegistryServer, repo: str, images: ImageFactory, tmp_path: Path
) -> None:
    image = images.oci()
    push(registry.address, repo, "build-1", image)
    command = [*TAGMGR, "promote", f"{registry.address}/{repo}:build-1", "--to", "dev"]
    question = f"Move {registry.address}/{repo}:dev? [y/N] "
    result = on_a_terminal(command, question, answer(b"n\n"), child_env(tmp_path))
    assert result.code == 1
    assert result.err.startswith(f"planned    {registry.address}/{repo}:dev -> {image.digest}")
    assert result.err.endswith(f"{question}tagmgr: nothing was changed\n")
    assert result.out == ""  # what would have moved was shown at the question, on stderr
    assert head_digest(registry.address, repo, "dev") is None


def test_the_rollback_question_names_the_builds_it_moves_between(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    first, second = images.oci("first"), images.oci("second")
    name = f"{registry.address}/{repo}"
    for build, image in (("build-20261031T120000Z", first), ("build-20261101T120000Z", second)):
        push(registry.address, repo, build, image)
        moved = run_tagmgr(capsys, "promote", f"{name}:{build}", "--to", "dev", "--yes")
        assert moved.code == 0, moved.err
    command = [*TAGMGR, "rollback", name, "--env", "dev"]
    question = f"Move {name}:dev? [y/N] "
    result = on_a_terminal(command, question, answer(b"n\n"), child_env(tmp_path))
    assert result.code == 1
    assert result.err.splitlines()[2:4] == [
        f"{'':<10} from: {second.digest}  build-20261101T120000Z; in dev since"
        f" 2026-11-01 08:04:00 UTC (dev-{stamp(4)})",  # each promote read the clock twice
        f"{'':<10} to:   {first.digest}  build-20261031T120000Z; was in dev from"
        f" 2026-11-01 08:02:00 UTC (dev-{stamp(2)})",
    ]
    assert head_digest(registry.address, repo, "dev") == second.digest
