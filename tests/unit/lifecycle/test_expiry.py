"""The expiry planner, from plain values: ECR's rule semantics, then what tagmgr keeps; the order
its deletions go in, and what stops one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tagmgr import exitcodes
from tagmgr.errors import Location
from tagmgr.lifecycle.deletion import DeletionStep, deletion_steps
from tagmgr.lifecycle.execute_expiry import Now, objections
from tagmgr.lifecycle.expiry import (
    ExpiryDecision,
    ExpiryVerdict,
    Limits,
    RepositoryPlan,
    expiry_exit_code,
    plan_expiry,
)
from tagmgr.lifecycle.holdings import Held, Holdings
from tagmgr.lifecycle.inuse import InUse, InUseSet
from tagmgr.lifecycle.policy import CountType, Policy, Rule, TagStatus
from tagmgr.lifecycle.policyfile import load_policy
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.manifest.environments import Chain
from tagmgr.oci.reference import ImageReference

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REGISTRY, REPOSITORY = "127.0.0.1:5000", "team/app"
CHAIN = Chain()
LIMITS = Limits(NOW, max_delete_share=1.0)
WINDOW = HistoryWindow(CHAIN)


def digest(name: str) -> str:
    return "sha256:" + name.encode().hex().ljust(64, "0")[:64]


def image(name: str, days_old: float, *tags: str, children: tuple[str, ...] = ()) -> Held:
    created = NOW - timedelta(days=days_old)
    return Held(
        digest(name),
        "application/vnd.oci.image.manifest.v1+json",
        100,
        tuple(tags),
        children,
        created=created,
    )


def signature_of(held: Held) -> Held:
    """A cosign-style signature: tagged ``sha256-<hex>.sig``, about ``held``."""
    tag = f"sha256-{held.digest.removeprefix('sha256:')}.sig"
    return Held(digest("sig"), held.media_type, 10, (tag,), subject=held.digest)


def holdings(*held: Held) -> Holdings:
    return Holdings(REGISTRY, REPOSITORY, {h.digest: h for h in held})


def rule(
    priority: int,
    count_type: CountType,
    number: int,
    *patterns: str,
    status: TagStatus = TagStatus.TAGGED,
) -> Rule:
    return Rule(
        priority,
        f"Rule {priority}",
        status,
        count_type,
        number,
        Location("policy.json", 1, 1),
        tag_patterns=patterns,
    )


def verdicts(
    policy_rules: list[Rule],
    held: Holdings,
    in_use: InUseSet | None = None,
    limits: Limits = LIMITS,
) -> dict[str, tuple[ExpiryVerdict, tuple[str, ...]]]:
    plan = plan_expiry(
        Policy("policy.json", tuple(policy_rules)), held, in_use or InUseSet(), CHAIN, limits
    )
    names = {
        d.held.digest: d.held.tags[0] if d.held.tags else d.held.digest[:15] for d in plan.decisions
    }
    return {names[d.held.digest]: (d.verdict, d.reasons) for d in plan.decisions}


def test_ecr_example_a_an_image_another_rule_selects_is_counted_but_not_expired() -> None:
    # AWS's "Filtering on multiple rules", example A: only image A expires.
    held = holdings(
        image("a", 10, "beta-1", "prod-1"),
        image("b", 9, "beta-2", "prod-2"),
        image("c", 8, "beta-3"),
    )
    rules = [
        rule(1, CountType.IMAGE_COUNT_MORE_THAN, 1, "prod*"),
        rule(2, CountType.IMAGE_COUNT_MORE_THAN, 1, "beta*"),
    ]
    result = verdicts(rules, held)
    assert {tag: v for tag, (v, _) in result.items()} == {
        "beta-1": ExpiryVerdict.DELETE,
        "beta-2": ExpiryVerdict.KEEP,
        "beta-3": ExpiryVerdict.KEEP,
    }
    assert result["beta-1"][1] == ("rule 1 (Rule 1): 2 images match and the newest 1 are kept",)


def test_an_image_in_use_by_digest_or_tag_is_kept_with_the_reason() -> None:
    held = holdings(
        image("old", 30, "build-1"), image("older", 40, "build-0"), image("new", 1, "build-2")
    )
    in_use = InUseSet(
        [
            InUse(
                ImageReference(REGISTRY, REPOSITORY, digest=digest("old")), "pods.json: default/web"
            ),
            InUse(ImageReference(REGISTRY, REPOSITORY, tag="build-0"), "compose.yaml: services.db"),
        ]
    )
    result = verdicts([rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*")], held, in_use)
    assert result["build-1"] == (
        ExpiryVerdict.KEEP,
        ("rule 1 (Rule 1): older than 14 days, but kept", "in use: pods.json: default/web"),
    )
    assert result["build-0"][1][1] == "tag build-0 in use: compose.yaml: services.db"
    assert result["build-2"] == (ExpiryVerdict.KEEP, ("newer than the grace period (7d)",))


def test_environment_and_history_tags_keep_their_digest() -> None:
    held = holdings(
        image("x", 30, "build-1", "prd"), image("y", 40, "build-0", "stg-20261101T000000Z")
    )
    result = verdicts([rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*")], held)
    assert result["build-1"][1][1:] == ("tag prd is an environment tag",)
    assert result["build-0"][1][1:] == ("tag stg-20261101T000000Z is a history tag",)


def test_a_build_tag_timestamp_orders_before_the_config_created() -> None:
    # Created a year ago, but the build tag says yesterday: the tag wins, and it is within grace.
    held = holdings(image("x", 365, "master-20261130T120000Z.0"))
    result = verdicts([rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "master-*")], held)
    assert result["master-20261130T120000Z.0"] == (
        ExpiryVerdict.KEEP,
        ("newer than the grace period (7d)",),
    )


def test_an_index_with_a_child_in_use_is_kept_and_keeps_its_other_children() -> None:
    child_a, child_b = image("ca", 30), image("cb", 30)
    index = image("ix", 30, "build-1", children=(child_a.digest, child_b.digest))
    in_use = InUseSet([InUse(ImageReference(REGISTRY, REPOSITORY, digest=child_a.digest), "node")])
    plan = plan_expiry(
        Policy("p", (rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*"),)),
        holdings(index, child_a, child_b),
        in_use,
        CHAIN,
        LIMITS,
    )
    reasons = {d.held.digest: (d.verdict, d.reasons) for d in plan.decisions}
    assert reasons[index.digest] == (
        ExpiryVerdict.KEEP,
        (
            "rule 1 (Rule 1): older than 14 days, but kept",
            f"index of kept child {child_a.digest[:19]}",
        ),
    )
    assert reasons[child_b.digest] == (
        ExpiryVerdict.KEEP,
        (f"child of kept index {index.digest[:19]}",),
    )
    assert not plan.deletions


def test_an_expired_index_takes_its_children_and_signatures_along() -> None:
    child = image("c", 30)
    index = image("ix", 30, "build-1", children=(child.digest,))
    signature = signature_of(index)
    plan = plan_expiry(
        Policy("p", (rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*"),)),
        holdings(index, child, signature),
        InUseSet(),
        CHAIN,
        LIMITS,
    )
    assert {d.held.digest: d.reasons for d in plan.deletions} == {
        index.digest: ("rule 1 (Rule 1): older than 14 days",),
        child.digest: (f"child of expired index {index.digest[:19]}",),
        signature.digest: (f"refers to expired {index.digest[:19]}",),
    }
    assert expiry_exit_code([plan]) == exitcodes.CHANGES_PENDING


def test_a_signature_of_a_kept_image_is_kept() -> None:
    kept = image("k", 1, "build-1")
    signature = signature_of(kept)
    rules = [rule(1, CountType.SINCE_IMAGE_PUSHED, 1, "*", status=TagStatus.TAGGED)]
    result = verdicts(rules, holdings(kept, signature))
    assert result[f"sha256-{kept.digest[7:]}.sig"][0] is ExpiryVerdict.KEEP


def test_an_expired_index_of_indexes_takes_every_level_along() -> None:
    """The inner index's children are reached a step after it: until then they are no reason to
    hold it back."""
    leaf = image("leaf", 30)
    inner = image("inner", 30, children=(leaf.digest,))
    outer = image("outer", 30, "build-1", children=(inner.digest,))
    plan = plan_expiry(
        Policy("p", (rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*"),)),
        holdings(outer, inner, leaf),
        InUseSet(),
        CHAIN,
        LIMITS,
    )
    assert {d.held.digest for d in plan.deletions} == {outer.digest, inner.digest, leaf.digest}


def test_a_signature_in_use_keeps_the_image_it_signs() -> None:
    """Deleting the image would leave its signature's tag naming a signature of nothing."""
    old = image("o", 30, "build-1")
    signature = signature_of(old)
    in_use = InUseSet([InUse(ImageReference(REGISTRY, REPOSITORY, digest=signature.digest), "x")])
    plan = plan_expiry(
        Policy("p", (rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*"),)),
        holdings(old, signature),
        in_use,
        CHAIN,
        LIMITS,
    )
    reasons = {d.held.digest: (d.verdict, d.reasons) for d in plan.decisions}
    assert reasons[old.digest] == (
        ExpiryVerdict.KEEP,
        (
            "rule 1 (Rule 1): older than 14 days, but kept",
            f"subject of kept {signature.digest[:19]}",
        ),
    )
    assert not plan.deletions


def test_more_than_the_share_is_refused() -> None:
    held = holdings(image("a", 30, "build-1"), image("b", 31, "build-2"), image("c", 1, "build-3"))
    plan = plan_expiry(
        Policy("p", (rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*"),)),
        held,
        InUseSet(),
        CHAIN,
        Limits(NOW, max_delete_share=0.5),
    )
    assert plan.refusal == (
        "127.0.0.1:5000/team/app: the policy would delete 2 of 3 manifests, more than"
        " --max-delete-share 50%; nothing was deleted"
    )
    assert expiry_exit_code([plan]) == exitcodes.FAILURE


def test_an_aws_example_policy_loads_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(AWS_EXAMPLE, encoding="utf-8")
    policy = load_policy(str(path))
    assert [(r.priority, r.tag_status, r.count_type, r.count_number) for r in policy.rules] == [
        (1, TagStatus.UNTAGGED, CountType.SINCE_IMAGE_PUSHED, 14)
    ]


# From AWS's "Examples of lifecycle policies in Amazon ECR", Filtering on image age.
AWS_EXAMPLE = """{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire images older than 14 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 14
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}
"""


def test_a_child_with_a_tag_of_its_own_is_an_image_of_its_own() -> None:
    # The index is old; its child is tagged by itself and new: the child stays, so does the index.
    child = image("c", 1, "build-1-amd64")
    index = image("ix", 30, "build-1", children=(child.digest,))
    result = verdicts(
        [rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*")], holdings(index, child)
    )
    assert result["build-1"] == (
        ExpiryVerdict.KEEP,
        (
            "rule 1 (Rule 1): older than 14 days, but kept",
            f"index of kept child {child.digest[:19]}",
        ),
    )
    assert result["build-1-amd64"] == (ExpiryVerdict.KEEP, ("newer than the grace period (7d)",))


def test_deletion_steps_send_referrers_before_what_they_need_and_indexes_before_children() -> None:
    # A signature of the index and one of its child; an image with its signature; all expired.
    children = image("c1", 30), image("c2", 30)
    index = image("ix", 30, "build-1", children=tuple(c.digest for c in children))
    plain = image("p", 30, "build-2")
    signatures = {
        name: Held(
            digest(f"sig-{name}"), held.media_type, 10, (f"{name}.sig",), subject=held.digest
        )
        for name, held in (("ix", index), ("c1", children[0]), ("p", plain))
    }
    plan = plan_expiry(
        Policy("p", (rule(1, CountType.SINCE_IMAGE_PUSHED, 14, "build-*"),)),
        holdings(index, *children, plain, *signatures.values()),
        InUseSet(),
        CHAIN,
        LIMITS,
    )
    steps = {step.digest: step for step in deletion_steps(plan)}
    order = list(steps)
    names = {
        index.digest: "ix",
        children[0].digest: "c1",
        children[1].digest: "c2",
        plain.digest: "p",
        **{held.digest: f"sig-{name}" for name, held in signatures.items()},
    }
    assert [names[d] for d in order] == ["sig-c1", "sig-ix", "ix", "c1", "c2", "sig-p", "p"]
    for position, step in enumerate(steps.values()):
        assert set(step.after) <= set(order[:position])
    by_name = {names[d]: step for d, step in steps.items()}
    assert {names[d] for d in by_name["ix"].after} == {"sig-ix", "sig-c1"}
    assert {names[d] for d in by_name["c1"].after} == {"ix", "sig-c1"}
    assert {names[d] for d in by_name["sig-c1"].watch} == {"sig-c1", "c1", "ix"}
    assert {names[d] for d in by_name["p"].watch} == {"p"}


def test_digests_that_wait_on_each_other_come_last_and_wait_for_ever() -> None:
    # Two signatures, each tagged as the other's: nothing sane, but no loop and nothing sent.
    first, second = digest("first"), digest("second")
    held = holdings(
        Held(first, "m", 1, (f"sha256-{second[7:]}.sig",), subject=second),
        Held(second, "m", 1, (f"sha256-{first[7:]}.sig",), subject=first),
        image("x", 30, "build-1"),
    )
    decisions = tuple(
        ExpiryDecision(h, h.time(CHAIN), ExpiryVerdict.DELETE, ("test",))
        for h in held.images.values()
    )
    steps = deletion_steps(RepositoryPlan(held, decisions, HistoryWindow(CHAIN)))
    assert [s.digest for s in steps] == [digest("x"), first, second]
    assert (steps[1].after, steps[2].after) == ((second,), (first,))


def test_objections_name_what_the_plan_did_not_see_on_what_a_step_watches() -> None:
    child = image("c", 30)
    index = image("ix", 30, "build-1", children=(child.digest,))
    step = DeletionStep(child.digest, (index.digest,), (), (child.digest, index.digest))
    newer, signature = digest("newer"), digest("signature")
    signature_tag = f"sha256-{child.digest[7:]}.sig"
    as_planned = {"build-1": index.digest}
    assert objections(step, holdings(index, child), Now(as_planned, {}), WINDOW) == []
    now = Now(
        {**as_planned, "dev": index.digest, "build-9": newer, signature_tag: signature},
        {newer: (child.digest, digest("other")), signature: ()},
    )
    assert objections(step, holdings(index, child), now, WINDOW) == [
        f"{index.digest[:19]} tagged dev",
        f"{newer[:19]} (build-9) names it",
        f"{signature_tag} refers to it",
    ]
    now = Now({**as_planned, "0-amd64": child.digest, "latest": child.digest}, {})
    assert objections(step, holdings(index, child), now, WINDOW) == ["tagged 0-amd64, latest"]
