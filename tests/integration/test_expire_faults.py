"""expire through faults, and over a repository a failed run broke, on a real registry.

A proxy on 127.0.0.1 answers 500, drops connections, or carries out a DELETE and drops its answer,
at random (seeded) but only once the plan is made. Whatever fails, no tag may be left that does
not pull whole, and no signature without its image; a second run without faults finishes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.errors import TagmgrError
from tagmgr.lifecycle import execute_expiry
from tagmgr.registry import Registries, RegistryOptions
from tagmgr.registry.policy import RetryPolicy
from tests.integration.test_e2e_expire import POLICY as POLICY_FILE
from tests.support.e2e import DRY_RUN_NOTE, Run, run_tagmgr
from tests.support.expiring import (
    CURRENT_TAG,
    OLD_TAGS,
    content,
    index_of,
    place,
    planned,
    signature_tag,
)
from tests.support.faults import Fault, fault_proxy, first
from tests.support.intact import problems, tags_of
from tests.support.oci import Image, ImageFactory, single
from tests.support.push import head_digest, open_client
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration
RUNS = 10
KEPT = {CURRENT_TAG, "dev", OLD_TAGS[1]}  # the old index sharing its children is kept too


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

    dry = expire(capsys, policy, "--dry-run")
    assert (dry.code, dry.err) == (1, f"tagmgr: error: {problem}\n{DRY_RUN_NOTE}")
    assert dry.out.count(problem) == 1  # under problems, not again as a row
    recap = f"\n\nproblems:\n  {problem}\n"
    assert dry.out.endswith(f"\nexpire: 3 to delete, 1 kept, in 1 repository{recap}")
    document = expire(capsys, policy, "--dry-run", "--output", "json")
    assert document.json()["repositories"][0]["problems"] == [problem]

    done = expire(capsys, policy, "--yes")
    assert (done.code, done.err) == (1, f"tagmgr: error: {problem}\n")
    assert done.out.endswith(f"\nexpire: 3 deleted, 1 kept, in 1 repository{recap}")
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
    assert done.out.endswith(
        f"\nexpire: 1 deleted, 2 kept, in 1 repository\n\nproblems:\n  {problem}\n"
    )
    assert head_digest(registry.address, repo, "dev") == broken.digest
    assert head_digest(registry.address, repo, plain.digest) is None


def repository(images: ImageFactory) -> dict[str, Image]:
    """Tag -> image: two old indexes (one sharing its children with a kept index), two old
    images, signatures of an index, of one of its children and of an image; dev, kept."""
    first, second = images.index("first"), images.index("second")
    kept = index_of(*second.children, single(f"{images.prefix}#kept", layers=1))
    signed, plain = single(f"{images.prefix}#signed", layers=1), images.oci("plain")
    signatures = {
        signature_tag(image): single(f"{images.prefix}#signature-{n}", layers=1)
        for n, image in enumerate((first, first.children[0], signed))
    }
    return content([first, second, signed, plain], kept, signatures)


def faults(rng: random.Random, armed: list[bool]) -> Callable[[str, str], Fault | None]:
    """8% answered 500, 4% dropped unsent; a DELETE also 4% carried out with its answer lost."""

    def rule(method: str, target: str) -> Fault | None:
        roll = rng.random()
        if not armed or roll >= 0.16:
            return None
        if roll < 0.08:
            return Fault("status", status=500)
        if roll < 0.12:
            return Fault("drop")
        return Fault("lost") if method == "DELETE" else None

    return rule


def test_failed_deletes_leave_nothing_broken_and_a_second_run_finishes(
    registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    rng = random.Random(22)  # noqa: S311 - seeded faults, not secrets
    tagged = repository(images)
    broken: dict[str, list[str]] = {}
    unfinished: dict[str, list[str]] = {}
    waits: list[float] = []
    for run in range(RUNS):
        name = f"{repo}/{run}"
        place(registry.address, name, tagged, blobs_from=f"{repo}/0" if run else None)
        armed: list[bool] = []
        with (
            fault_proxy(registry.address, faults(rng, armed)) as proxy,
            Registries(
                RegistryOptions(retry=RetryPolicy(request_timeout=5.0)), sleep=waits.append
            ) as registries,
        ):
            plan = planned(registries, proxy.address, name)
            assert len(plan.deletions) == 8
            armed.append(True)
            execute_expiry.delete(plan, registries)
        broken[name] = problems(registry.address, name)
        unfinished[name] = _second_run(registry.address, name)
    assert not any([*broken.values(), *unfinished.values()]), "\n".join(
        [_failures(broken, "left a broken repository"), _failures(unfinished, "were unfinished")]
    )


def _second_run(address: str, repo: str) -> list[str]:
    """What a second run, without faults, leaves undone."""
    try:
        with Registries(RegistryOptions()) as registries:
            results = execute_expiry.delete(planned(registries, address, repo), registries)
    except TagmgrError as error:
        return [f"{repo}: {error}"]
    left = sorted(set(tags_of(address, repo)) - KEPT)
    failed = sorted(result for result in results.values() if result != "deleted")
    return [f"{repo}: {problem}" for problem in [*failed, *left, *problems(address, repo)]]


def _failures(found: dict[str, list[str]], what: str) -> str:
    lines = [line for problems_found in found.values() for line in problems_found]
    return f"{sum(map(bool, found.values()))} of {RUNS} runs {what}:\n" + "\n".join(lines)


def test_a_delete_answered_404_counts_only_once_the_registry_is_seen_without_it(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    """A 404 to an index's DELETE while the registry still holds it: the index is a failure,
    its children wait (skipped), and its tag still pulls whole."""
    index, kept = images.index("old"), images.oci("kept")
    place(registry.address, repo, content([index], kept))
    target = f"/v2/{repo}/manifests/{index.digest}"
    lost = first(1, "status", status=404, when=lambda m, t: m == "DELETE" and t == target)
    with fault_proxy(registry.address, lost) as proxy:
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY_FILE.format(name=f"{proxy.address}/{repo}"))
        done = expire(capsys, policy, "--yes", "--output", "json")
    assert done.code == 1
    results = {i["digest"]: i["result"] for i in done.json()["repositories"][0]["images"]}
    assert results[index.digest] == "failed: DELETE answered 404, yet the registry still holds it"
    assert all(results[child.digest].startswith("skipped: ") for child in index.children)
    assert head_digest(registry.address, repo, OLD_TAGS[0]) == index.digest
    assert problems(registry.address, repo) == []
