"""Conformance with AWS's ECR lifecycle-policy documentation: its worked examples and its rules.

The reference is AWS's "Lifecycle policy properties in Amazon ECR", "Examples of lifecycle
policies in Amazon ECR" and the evaluation rules of "Automate the cleanup of images by using
lifecycle policies". Each example policy loads as it is and picks the images the page says; each
policy ECR refuses is refused here with ECR's reason; what tagmgr cannot do is refused with its
own. Where tagmgr differs from ECR on purpose, a test below says so (docs/commands/expire.md).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tagmgr.documents.schema import load_schema, schema_errors
from tagmgr.errors import PolicyError
from tagmgr.lifecycle import MAX_DAYS, MAX_IMAGES
from tagmgr.lifecycle.expiry import ExpiryVerdict, Limits, plan_expiry, untagged_notes
from tagmgr.lifecycle.inuse import InUseSet
from tagmgr.lifecycle.policy import Policy
from tagmgr.lifecycle.policyfile import SCHEMA_PATH, load_policy
from tests.support.paths import REPO_ROOT
from tests.unit.lifecycle.test_expiry import CHAIN, NOW, holdings, image

# The pages' repositories were pushed days ago: no grace period here, as ECR has none.
LIMITS = Limits(NOW, keep_newer_than=timedelta(0), max_delete_share=1.0)


def rule(priority: int, selection: dict[str, Any], action: str = "expire") -> dict[str, Any]:
    return {
        "rulePriority": priority,
        "description": f"Rule {priority}",
        "selection": selection,
        "action": {"type": action},
    }


def count(number: int, status: str = "tagged", **tags: list[str]) -> dict[str, Any]:
    return {"tagStatus": status, **tags, "countType": "imageCountMoreThan", "countNumber": number}


def age(days: int, status: str = "tagged", **tags: list[str]) -> dict[str, Any]:
    return {
        "tagStatus": status,
        **tags,
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": days,
    }


def write(tmp_path: Path, *rules: dict[str, Any]) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"rules": list(rules)}, indent=4) + "\n", encoding="utf-8")
    return path


def refusal(path: Path) -> list[str]:
    """Each problem of the policy, without its file name."""
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    return [str(problem).removeprefix(f"{path}:") for problem in caught.value.problems]


def expired(policy: Policy, *held: Any) -> list[str]:
    """The images the policy deletes, by their first tag (or "untagged <name>")."""
    plan = plan_expiry(policy, holdings(*held), InUseSet(), CHAIN, LIMITS)
    return sorted(d.held.tags[0] if d.held.tags else d.held.digest for d in plan.deletions)


# The worked examples: each policy as the page writes it, each repository as it lists it.
def test_filtering_on_multiple_rules_example_b(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule(1, count(1, tagPatternList=["beta*"])),
        rule(2, count(1, tagPatternList=["prod*"])),
    )
    repository = (
        image("a", 10, "beta-1", "prod-1"),
        image("b", 9, "beta-2", "prod-2"),
        image("c", 8, "beta-3"),
    )
    assert expired(load_policy(str(path)), *repository) == ["beta-1", "beta-2"]


def test_multiple_tags_in_one_rule_examples_a_and_b(tmp_path: Path) -> None:
    path = write(tmp_path, rule(1, age(5, tagPatternList=["alpha*", "beta*"])))
    example_a = (
        image("a", 12, "alpha-1"),
        image("b", 11, "beta-1"),
        image("c", 10, "alpha-2", "beta-2"),
        image("d", 4, "alpha-3"),
        image("e", 3, "beta-3"),
        image("f", 2, "alpha-4", "beta-4"),
    )
    assert expired(load_policy(str(path)), *example_a) == ["alpha-2"]
    path = write(tmp_path, rule(1, count(1, tagPatternList=["alpha*", "beta*"])))
    example_b = (
        image("a", 10, "alpha-1", "beta-1", "gamma-1"),
        image("b", 9, "alpha-2", "beta-2"),
        image("c", 8, "alpha-3", "beta-3", "gamma-2"),
    )
    assert expired(load_policy(str(path)), *example_b) == ["alpha-1", "alpha-2"]


def test_all_images_examples_a_and_b(tmp_path: Path) -> None:
    # D and E were both pushed "1 day ago"; the page keeps E, so E came after D.
    untagged_c, untagged_b, untagged_e = image("c", 2), image("b", 3), image("e", 0.5)
    path = write(tmp_path, rule(1, count(1, "any")))
    repository = (
        image("a", 4, "alpha-1"),
        image("b", 3, "beta-1"),
        untagged_c,
        image("d", 1, "alpha-2"),
    )
    assert expired(load_policy(str(path)), *repository) == sorted(
        ["alpha-1", "beta-1", untagged_c.digest]
    )
    path = write(
        tmp_path,
        rule(1, count(1, tagPatternList=["alpha*"])),
        rule(2, age(1, "untagged")),
        rule(3, count(1, "any")),
    )
    example_b = (
        image("a", 4, "alpha-1", "beta-1"),
        untagged_b,
        image("c", 2, "alpha-2"),
        image("d", 1, "git hash"),
        untagged_e,
    )
    # Images A, B and D, as the page says; untagged B is one only this pure planner sees: the
    # distribution API lists tags, so expire never does (see the untagged note below).
    assert expired(load_policy(str(path)), *example_b) == sorted(
        ["alpha-1", "git hash", untagged_b.digest]
    )


def test_an_image_a_higher_rule_shields_says_which_rule_picked_it_and_why_it_stays(
    tmp_path: Path,
) -> None:
    # Example A: rule 2 would expire B, but rule 1 selects B first and keeps it.
    path = write(
        tmp_path,
        rule(1, count(1, tagPatternList=["prod*"])),
        rule(2, count(1, tagPatternList=["beta*"])),
    )
    policy = load_policy(str(path))
    b = image("b", 9, "beta-2", "prod-2")
    plan = plan_expiry(
        policy,
        holdings(image("a", 10, "beta-1", "prod-1"), b, image("c", 8, "beta-3")),
        InUseSet(),
        CHAIN,
        LIMITS,
    )
    [kept] = [d for d in plan.decisions if d.held.digest == b.digest]
    assert (kept.verdict, kept.reasons) == (
        ExpiryVerdict.KEEP,
        (
            "rule 2 (Rule 2): 3 images match and the newest 1 are kept, but kept",
            "rule 1 (Rule 1) selects it first and keeps it: an image goes only by the first rule"
            " that selects it",
        ),
    )


# The examples that archive: valid ECR, refused here only for what the registry cannot do.
ARCHIVE_AND_EXPIRE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images older than 30 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        },
        {
            "rulePriority": 2,
            "description": "Expire images archived for more than 365 days",
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365,
            },
            "action": {"type": "expire"},
        },
    ]
}


def test_combining_archive_and_expire_is_refused_only_for_the_storage_classes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(ARCHIVE_AND_EXPIRE, indent=4), encoding="utf-8")
    # Both rules select any image, each the only rule of its storage class: no priority problem.
    assert refusal(path) == [
        "13:25: rules[0].action.type: transition is not supported: the distribution API has no"
        " storage classes; tagmgr only expires",
        "23:30: rules[1].selection.countType: sinceImageTransitioned is not supported: the"
        " distribution API has no storage classes",
    ]


def test_the_archive_examples_pass_the_published_schema() -> None:
    pulled = json.loads(json.dumps(ARCHIVE_AND_EXPIRE))
    pulled["rules"][0]["selection"]["countType"] = "sinceImagePulled"
    assert schema_errors(ARCHIVE_AND_EXPIRE, SCHEMA_PATH) == []
    assert schema_errors(pulled, SCHEMA_PATH) == []


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [rule(1, count(5, tagPrefixList=["v"], tagPatternList=["v*"]))],
            ["rules[0].selection: a rule gives a tagPrefixList or a tagPatternList, not both"],
        ),
        (
            [rule(1, count(5))],
            ["rules[0].selection: tagStatus tagged needs a tagPrefixList or a tagPatternList"],
        ),
        (
            [rule(1, count(5, "untagged", tagPrefixList=["v"]))],
            ["rules[0].selection: only tagStatus tagged takes a tagPrefixList or a tagPatternList"],
        ),
        (
            [rule(1, count(5, "untagged")), rule(2, age(5, "untagged"))],
            [
                "rules[1].selection.tagStatus: rules[0] selects untagged standard images already;"
                " only one rule may"
            ],
        ),
        (
            [
                rule(1, count(5, tagPrefixList=["prod", "v"])),
                rule(2, age(5, tagPrefixList=["v", "prod"])),
            ],
            [
                "rules[1].selection.tagPrefixList: rules[0] has the same prefixes for standard"
                " images; the rules of a storage class need a unique set of prefixes each"
            ],
        ),
        (
            [rule(1, count(5, "any")), rule(2, count(5, tagPrefixList=["v"]))],
            [
                "rules[0].rulePriority: a rule with tagStatus any must have the highest"
                " rulePriority of the rules for standard images"
            ],
        ),
        (
            [rule(3, count(5, tagPrefixList=["a"])), rule(3, count(5, tagPrefixList=["b"]))],
            ["rules[1].rulePriority: rulePriority 3 is used twice (rules[0]); each is unique"],
        ),
        (
            [{**rule(1, count(5, "any")), "action": {}}],
            ["rules[0].action: missing required key 'type'"],
        ),
        (
            [rule(1, count(5, "any"), action="keep")],
            ['rules[0].action.type: "keep" is not a valid ECR action; use expire or transition'],
        ),
        (
            [rule(1, {**age(5, "any"), "countUnit": "hours"})],
            ['rules[0].selection.countUnit: "hours" is not a valid ECR countUnit; use days'],
        ),
        (
            [rule(1, {**count(5, "any"), "countUnit": "days"})],
            ["rules[0].selection: countType imageCountMoreThan takes no countUnit"],
        ),
        (
            [rule(1, {key: v for key, v in age(5, "any").items() if key != "countUnit"})],
            [
                "rules[0].selection: countType sinceImagePushed, sinceImagePulled and"
                " sinceImageTransitioned need countUnit: days"
            ],
        ),
        (
            [rule(1, count(0, "any"))],
            ["rules[0].selection.countNumber: countNumber must be a whole number of at least 1"],
        ),
        (
            # The page's own invalid pattern; its valid ones follow in the next test.
            [rule(1, count(5, tagPatternList=["test*1*2*3*4*5*6"]))],
            [
                "rules[0].selection.tagPatternList[0]: 'test*1*2*3*4*5*6' has 6 wildcards (*);"
                " ECR allows at most 4"
            ],
        ),
    ],
)
def test_what_ecr_refuses_is_refused_with_its_reason(
    tmp_path: Path, rules: list[dict[str, Any]], expected: list[str]
) -> None:
    assert [line.split(": ", 1)[1] for line in refusal(write(tmp_path, *rules))] == expected


def test_what_ecr_accepts_loads(tmp_path: Path) -> None:
    policy = load_policy(
        str(
            write(
                tmp_path,
                rule(1, count(5, tagPatternList=["*test*1*2*3", "test*1*2*3*"])),
                rule(2, count(5, tagPrefixList=["prod"])),
                rule(3, count(5, tagPrefixList=["prod", "v"])),
                rule(4, age(5, "untagged")),
                rule(9, count(5, "any")),
            )
        )
    )
    assert [r.priority for r in policy.rules] == [1, 2, 3, 4, 9]


def test_a_rule_for_untagged_images_says_every_time_what_to_use_instead(tmp_path: Path) -> None:
    policy = load_policy(str(write(tmp_path, rule(1, count(10, "untagged")))))
    assert untagged_notes(policy) == [
        f"{tmp_path / 'policy.json'}:3:9: rule 1 (Rule 1) selects untagged images, and tagmgr sees"
        " none: the distribution API lists tags, not manifests, so an untagged manifest is seen"
        " only as the child of a tagged index (and goes with it). Delete untagged manifests with"
        " the registry's own garbage collection, with it stopped or read-only: docker-registry"
        " garbage-collect --delete-untagged CONFIG"
    ]
    tagged = load_policy(str(write(tmp_path, rule(1, count(10, tagPrefixList=["v"])))))
    assert untagged_notes(tagged) == []


# Deliberate differences from ECR (docs/commands/expire.md): each one pinned.
def test_difference_numbers_are_bounded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule(1, age(MAX_DAYS + 1, tagPrefixList=["v"])),
        rule(2, count(MAX_IMAGES + 1, "any")),
    )
    assert [line.split(": ", 1)[1] for line in refusal(path)] == [
        f"rules[0].selection.countNumber: countNumber {MAX_DAYS + 1} is more than {MAX_DAYS},"
        " the most days a rule counts back (100 years)",
        f"rules[1].selection.countNumber: countNumber {MAX_IMAGES + 1} is more than {MAX_IMAGES},"
        " the most images a rule keeps",
    ]
    assert (
        load_policy(str(write(tmp_path, rule(1, age(MAX_DAYS, "any"))))).rules[0].count_number
        == MAX_DAYS
    )


def test_difference_the_bounds_are_the_schema_s(tmp_path: Path) -> None:
    conditions = load_schema(SCHEMA_PATH)["$defs"]["selection"]["allOf"]
    bounds = [c["then"]["properties"]["countNumber"]["maximum"] for c in conditions if "then" in c]
    assert bounds == [MAX_IMAGES, MAX_DAYS]
    assert timedelta(days=MAX_DAYS) < timedelta.max


def test_difference_yaml_and_repositories_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "repositories: [127.0.0.1:5000/team/app]\nrules:\n- rulePriority: 1\n"
        "  selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 3}\n"
        "  action: {type: expire}\n"
    )
    assert load_policy(str(path)).repositories == ("127.0.0.1:5000/team/app",)


def test_difference_hidden_characters_are_refused_as_in_every_reviewed_file(tmp_path: Path) -> None:
    path = write(tmp_path, {**rule(1, count(3, "any")), "description": "old\u202e images"})
    assert refusal(path) == [
        "5:28: rules[0].description: contains U+202E RIGHT-TO-LEFT OVERRIDE, an invisible format"
        " character (Unicode Cf) that a reviewer cannot see; remove it"
    ]
    path = tmp_path / "policy.yaml"
    path.write_text(
        'rules:\n- rulePriority: 1\n  selection: {tagStatus: tagged, tagPrefixList: ["v\u200b"],'
        " countType: imageCountMoreThan, countNumber: 3}\n  action: {type: expire}\n"
    )
    assert refusal(path) == [
        "3:50: rules[0].selection.tagPrefixList[0]: contains U+200B ZERO WIDTH SPACE, an invisible"
        " format character (Unicode Cf) that a reviewer cannot see; remove it"
    ]


def test_the_schema_is_published_beside_the_others_with_a_stable_id() -> None:
    schema = load_schema(SCHEMA_PATH)
    Draft202012Validator.check_schema(schema)
    assert SCHEMA_PATH.resolve() == REPO_ROOT / "schemas" / "lifecycle-policy.schema.json"
    assert (schema["$schema"], schema["$id"]) == (
        "https://json-schema.org/draft/2020-12/schema",
        "urn:tagmgr:schema:lifecycle-policy",
    )
