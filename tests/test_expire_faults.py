"""expire over a repository a failed run broke, on a real registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import Run, run_tagmgr
from tests.support.expiring import (
    CURRENT_TAG,
    OLD_TAGS,
    content,
    place,
)
from tests.support.intact import problems
from tests.support.oci import Image, ImageFactory
from tests.support.push import head_digest, open_client
from tests.support.registry import RegistryServer
from tests.test_e2e_expire import POLICY as POLICY_FILE

pytestmark = pytest.mark.integration


def delete_manifest(address: str, repo: str, digest: str) -> None:
    with open_client(address) as client:
        assert client.delete(f"/v2/{repo}/manifests/{digest}").status_code == 202


@pytest.fixture
def policy(registry: RegistryServer, repo: str, tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_FILE.format(name=f"{registry.address}/{repo}"))
    return path


def expire(capsys: pytest.CaptureFixture[str], policy: Path, *args: str) -> Run:
    return run_tagmgr(capsys, "expire", "--policy", policy, "--max-delete-share", "100", *args)


def broken_index_problem(name: str, index: Image, tags: str, missing: str) -> str:
    return (
        f"{name}: index {index.digest} ({tags}) names {missing}, which the registry does not"
        " hold: it does not pull whole"
    )


def test_a_broken_index_is_reported_and_the_rest_still_expires(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    policy: Path,
) -> None:
    # What a failed run of an older tagmgr (or goharbor/harbor#22390) leaves: an index whose
    # child is gone. Every later run used to stop at the 404.
    broken, plain, kept = images.index("broken"), images.oci("plain"), images.oci("kept")
    place(registry.address, repo, content([broken, plain], kept))
    missing = broken.children[1].digest
    delete_manifest(registry.address, repo, missing)
    problem = broken_index_problem(f"{registry.address}/{repo}", broken, OLD_TAGS[0], missing)

    dry = expire(capsys, policy)
    assert (dry.code, dry.err) == (1, f"tagmgr: error: {problem}\n")
    assert f"problem: {problem}\n" in dry.out
    assert dry.out.endswith("\nexpire: 3 to delete, 1 kept, in 1 repository\n")
    document = expire(capsys, policy, "--output", "json")
    assert document.json()["repositories"][0]["problems"] == [problem]

    done = expire(capsys, policy, "--yes")
    assert (done.code, done.err) == (1, f"tagmgr: error: {problem}\n")
    assert done.out.endswith("\nexpire: 3 deleted, 1 kept, in 1 repository\n")
    for gone in (broken.digest, broken.children[0].digest, plain.digest):
        assert head_digest(registry.address, repo, gone) is None
    assert problems(registry.address, repo) == []
    again = expire(capsys, policy, "--yes")
    assert (again.code, again.err) == (0, "")


def test_a_broken_index_that_is_kept_is_reported_and_kept(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    policy: Path,
) -> None:
    broken, plain = images.index("broken"), images.oci("plain")
    place(registry.address, repo, content([plain], broken))
    missing = broken.children[0].digest
    delete_manifest(registry.address, repo, missing)
    problem = broken_index_problem(
        f"{registry.address}/{repo}", broken, f"{CURRENT_TAG}, dev", missing
    )

    done = expire(capsys, policy, "--yes")
    assert (done.code, done.err) == (1, f"tagmgr: error: {problem}\n")
    assert done.out.endswith("\nexpire: 1 deleted, 2 kept, in 1 repository\n")
    assert head_digest(registry.address, repo, "dev") == broken.digest
    assert head_digest(registry.address, repo, plain.digest) is None
