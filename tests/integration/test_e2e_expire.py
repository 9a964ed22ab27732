"""expire end to end: a dry run, deletion, the registry's own garbage collection, and every image
in use still pulling whole with skopeo, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagmgr.lifecycle.survey import survey
from tagmgr.manifest.environments import Chain
from tagmgr.registry import Registries, RegistryOptions
from tests.integration.test_support import skopeo
from tests.support.e2e import DRY_RUN_NOTE, GATE, Run, run_tagmgr
from tests.support.oci import Image, ImageFactory, single
from tests.support.push import head_digest, open_client, push
from tests.support.registry import RegistryServer
from tests.unit.lifecycle.test_expiry import AWS_EXAMPLE

POLICY = """\
# Expire anything older than 30 days, as an ECR policy would; tagmgr adds repositories:.
repositories: [{name}]
rules:
- rulePriority: 1
  description: Expire images older than 30 days
  selection: {{tagStatus: any, countType: sinceImagePushed, countUnit: days, countNumber: 30}}
  action: {{type: expire}}
"""


def signature_of(image: Image, images: ImageFactory) -> tuple[str, Image]:
    return f"sha256-{image.digest.removeprefix('sha256:')}.sig", single(f"{images.prefix}#sig")


def pulls_whole(address: str, repo: str, image: Image, directory: Path) -> None:
    """skopeo copies ``repo@digest`` out, and every manifest and blob is the bytes pushed."""
    skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        f"docker://{address}/{repo}@{image.digest}",
        f"oci:{directory}:pulled",
    )
    blobs = directory / "blobs" / "sha256"
    expected = {**image.all_blobs(), **{m.digest: m.manifest_bytes for m in image.manifests()}}
    for digest, data in expected.items():
        assert (blobs / digest.removeprefix("sha256:")).read_bytes() == data, digest


@pytest.mark.integration
def test_expire_protects_what_is_in_use_and_survives_garbage_collection(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: str, images: ImageFactory
) -> None:
    fresh_stamp = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    pushed = {
        "build-20190101T000000Z": images.oci("old"),
        "build-20190102T000000Z": images.oci("deployed"),
        "build-20190103T000000Z": images.index("child-running"),
        "build-20190104T000000Z": images.oci("in-prd"),
        "build-20190105T000000Z": images.oci("in-manifest"),
        "build-20190106T000000Z": images.oci("older"),
        f"build-{fresh_stamp}": images.oci("fresh"),
        "nightly": images.oci("unordered"),
    }
    old, deployed, indexed = (pushed[f"build-2019010{n}T000000Z"] for n in (1, 2, 3))
    in_prd, in_manifest, older = (pushed[f"build-2019010{n}T000000Z"] for n in (4, 5, 6))
    sig_tag, signature = signature_of(old, images)
    with RegistryServer(tmp_path / "registry") as server:
        name = f"{server.address}/{repo}"
        for tag, image in pushed.items():
            push(server.address, repo, tag, image)
        push(server.address, repo, "prd", in_prd)
        push(server.address, repo, sig_tag, signature)
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY.format(name=name))
        deploy = tmp_path / "deploy.yaml"
        deploy.write_text(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
            f"      containers:\n      - name: app\n        image: {name}@{deployed.digest}\n"
        )
        compose = tmp_path / "compose.yaml"
        compose.write_text(f"services:\n  app:\n    image: {name}@{indexed.children[1].digest}\n")
        manifest = tmp_path / "images.yaml"
        manifest.write_text(
            f"images:\n- name: {name}\n  src_build_tag: build-20190105T000000Z\n  tag: v1.0\n"
        )
        in_use = [arg for path in (deploy, compose, manifest) for arg in ("--in-use", str(path))]

        dry = run_tagmgr(capsys, "expire", "--policy", policy, *in_use, *GATE)
        assert dry.code == 2, dry.err
        assert _block(dry, deployed.digest) == [
            f"keep     {name}@{deployed.digest}  (build-20190102T000000Z;"
            " 2019-01-02T00:00:00Z from build tag build-20190102T000000Z)",
            "         rule 1 (Expire images older than 30 days): older than 30 days, but kept",
            f"         in use: {deploy}:8:16: spec.template.spec.containers[0].image",
        ]
        assert dry.out.endswith("\nexpire: 3 to delete, 8 kept, in 1 repository\n")
        document = run_tagmgr(
            capsys, "expire", "--policy", policy, *in_use, "--dry-run", "--output", "json"
        )
        decisions = {i["digest"]: i for i in document.json()["repositories"][0]["images"]}
        assert {d for d, i in decisions.items() if i["action"] == "delete"} == {
            old.digest,
            older.digest,
            signature.digest,
        }
        assert decisions[signature.digest]["reasons"] == [f"refers to expired {old.digest[:19]}"]
        assert decisions[indexed.digest]["reasons"] == [
            "rule 1 (Expire images older than 30 days): older than 30 days, but kept",
            f"index of kept child {indexed.children[1].digest[:19]}",
        ]
        assert decisions[in_prd.digest]["reasons"][1:] == ["tag prd is an environment tag"]
        assert decisions[in_manifest.digest]["reasons"][1:] == [
            f"tag build-20190105T000000Z in use: {manifest}:2:3: images[0] (source)"
        ]
        unordered = decisions[pushed["nightly"].digest]
        assert (unordered["time"], unordered["time_source"], unordered["reasons"]) == (
            None,
            "unknown",
            ["no known time to order it by"],
        )
        assert decisions[old.digest]["time"] == "2019-01-01T00:00:00Z"
        assert head_digest(server.address, repo, "build-20190101T000000Z") == old.digest

        deleted = run_tagmgr(capsys, "expire", "--policy", policy, *in_use, "--yes")
        assert deleted.code == 0, deleted.err
        assert deleted.out.endswith("\nexpire: 3 deleted, 8 kept, in 1 repository\n")
        for gone in (old, older, signature):
            assert head_digest(server.address, repo, gone.digest) is None
    server.garbage_collect()
    with server:
        for number, image in enumerate([deployed, indexed, in_prd, in_manifest, pushed["nightly"]]):
            pulls_whole(server.address, repo, image, tmp_path / f"pulled-{number}")
        assert head_digest(server.address, repo, "prd") == in_prd.digest
        with open_client(server.address) as client:  # collected: the deleted image's blobs went
            for digest in old.all_blobs():
                assert client.head(f"/v2/{repo}/blobs/{digest}").status_code == 404


def _block(result: Run, digest: str) -> list[str]:
    """The lines of one decision in the text report."""
    lines = result.out.splitlines()
    start = next(i for i, line in enumerate(lines) if f"@{digest} " in line)
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines)
    )
    return lines[start:end]


@pytest.fixture
def old_images(registry: RegistryServer, repo: str, images: ImageFactory) -> str:
    """Two images from 2019 in ``repo``; returns its name."""
    for day in (1, 2):
        push(registry.address, repo, f"build-2019010{day}T000000Z", images.oci(str(day)))
    return f"{registry.address}/{repo}"


def test_a_policy_that_would_delete_everything_is_refused(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    old_images: str,
    tmp_path: Path,
) -> None:
    name = old_images
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(name=name))
    refused = run_tagmgr(capsys, "expire", "--policy", policy, "--yes")
    assert (refused.code, refused.err) == (
        1,
        f"tagmgr: error: {name}: the policy would delete 2 of 2 manifests, more than"
        " --max-delete-share 50%; nothing was deleted\n",
    )
    refusal = (
        f"refused: {name}: the policy would delete 2 of 2 manifests, more than"
        " --max-delete-share 50%; nothing was deleted"
    )
    assert refused.out.splitlines()[-5:] == [
        "",
        "expire: nothing deleted, 1 of 1 repository refused (the policy would delete 2 and keep 0)",
        "",
        "problems:",
        f"  {refusal}",
    ]
    assert refused.out.count(refusal) == 1
    assert head_digest(registry.address, repo, "build-20190101T000000Z") is not None


def test_one_build_in_two_repositories_is_deleted_and_counted_in_each(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    """The same image pushed to two repositories has one digest and two deletions; each is
    carried out and counted (results were once merged by digest alone)."""
    old, fresh = images.oci("old"), images.oci("fresh")
    fresh_tag = "build-" + (datetime.now(UTC) - timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    copy = f"{repo}-copy"
    for repository in (repo, copy):
        push(registry.address, repository, "build-20190101T000000Z", old)
        push(registry.address, repository, fresh_tag, fresh)
    policy = tmp_path / "policy.yaml"
    names = f"{registry.address}/{repo}, {registry.address}/{copy}"
    policy.write_text(POLICY.format(name=names))
    done = run_tagmgr(capsys, "expire", "--policy", policy, "--yes")
    assert (done.code, done.err) == (0, "")
    assert done.out.endswith("\nexpire: 2 deleted, 2 kept, in 2 repositories\n")
    for repository in (repo, copy):
        assert head_digest(registry.address, repository, old.digest) is None
        assert head_digest(registry.address, repository, fresh_tag) == fresh.digest


def test_an_ecr_policy_from_the_aws_documentation_works_as_it_is(
    capsys: pytest.CaptureFixture[str], old_images: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(AWS_EXAMPLE)
    assert json.loads(policy.read_text())["rules"][0]["selection"]["tagStatus"] == "untagged"
    result = run_tagmgr(capsys, "expire", "--policy", policy, old_images, "--output", "json")
    assert result.code == 0, result.err
    found = result.json()["repositories"][0]["images"]
    assert [(i["action"], i["reasons"]) for i in found] == [("keep", ["no rule expires it"])] * 2
    # It selects untagged images only, which the distribution API cannot list: said every run.
    text = run_tagmgr(capsys, "expire", "--policy", policy, old_images)
    for run in (result, text):
        assert run.err == (
            f"tagmgr: note: {policy}:3:9: rule 1 (Expire images older than 14 days) selects"
            " untagged images, and tagmgr sees none: the distribution API lists tags, not"
            " manifests, so an untagged manifest is seen only as the child of a tagged index (and"
            " goes with it). Delete untagged manifests with the registry's own garbage collection,"
            " with it stopped or read-only: docker-registry garbage-collect --delete-untagged"
            " CONFIG\n"
        )
    assert text.code == 0


def test_an_image_a_higher_rule_shields_is_shown_with_both_rules(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    """AWS's "filtering on multiple rules", example A, on a real registry: A goes, B stays."""
    a, b, c = images.oci("a"), images.oci("b"), images.oci("c")
    for tag, image in [
        ("beta-20190101T000000Z", a),
        ("prod-20190101T000000Z", a),
        ("beta-20190102T000000Z", b),
        ("prod-20190102T000000Z", b),
        ("beta-20190103T000000Z", c),
    ]:
        push(registry.address, repo, tag, image)
    name = f"{registry.address}/{repo}"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"repositories: [{name}]\nrules:\n"
        "- {rulePriority: 1, description: Rule 1, selection: {tagStatus: tagged,"
        " tagPatternList: ['prod*'], countType: imageCountMoreThan, countNumber: 1},"
        " action: {type: expire}}\n"
        "- {rulePriority: 2, description: Rule 2, selection: {tagStatus: tagged,"
        " tagPatternList: ['beta*'], countType: imageCountMoreThan, countNumber: 1},"
        " action: {type: expire}}\n"
    )
    dry = run_tagmgr(capsys, "expire", "--policy", policy, *GATE)
    assert (dry.code, dry.err) == (2, DRY_RUN_NOTE)
    assert _block(dry, b.digest) == [
        f"keep     {name}@{b.digest}  (beta-20190102T000000Z, prod-20190102T000000Z;"
        " 2019-01-02T00:00:00Z from build tag prod-20190102T000000Z)",
        "         rule 2 (Rule 2): 3 images match and the newest 1 are kept, but kept",
        "         rule 1 (Rule 1) selects it first and keeps it: an image goes only by the first"
        " rule that selects it",
    ]
    assert dry.out.endswith("\nexpire: 1 to delete, 2 kept, in 1 repository\n")
    assert f"delete   {name}@{a.digest} " in dry.out


def test_survey_sees_an_index_its_children_and_a_child_tagged_on_its_own(
    registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    index = images.index()
    push(registry.address, repo, "build-20190101T000000Z", index)
    # Read through the index (untagged) and through its own tag: the tag must not be lost.
    tagged_child = index.children[0]
    push(registry.address, repo, "0-amd64", tagged_child)
    with Registries(RegistryOptions()) as registries:
        holdings = survey(registries.client(registry.address), repo, Chain())
    assert {d: (h.tags, h.children) for d, h in holdings.images.items()} == {
        index.digest: (("build-20190101T000000Z",), tuple(c.digest for c in index.children)),
        tagged_child.digest: (("0-amd64",), ()),
        index.children[1].digest: ((), ()),
    }
