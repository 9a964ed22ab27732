"""Lifecycle policies load from ECR's JSON or YAML; every problem is located and said in words."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tagmgr import exitcodes
from tagmgr.cli import main
from tagmgr.commands.lifecycle import parse_age, parse_share
from tagmgr.errors import PolicyError
from tagmgr.lifecycle.policy import CountType, TagStatus
from tagmgr.lifecycle.policyfile import load_policy

# From AWS's "Examples of lifecycle policies in Amazon ECR", Filtering on multiple rules, with
# tagmgr's repositories: added; JSON indented with tabs, which YAML alone would refuse.
MULTIPLE_RULES = """{
\t"repositories": ["127.0.0.1:5000/team/app"],
\t"rules": [
\t\t{
\t\t\t"rulePriority": 1,
\t\t\t"description": "Rule 1",
\t\t\t"selection": {
\t\t\t\t"tagStatus": "tagged",
\t\t\t\t"tagPatternList": ["prod*"],
\t\t\t\t"countType": "imageCountMoreThan",
\t\t\t\t"countNumber": 1
\t\t\t},
\t\t\t"action": {"type": "expire"}
\t\t},
\t\t{
\t\t\t"rulePriority": 2,
\t\t\t"description": "Rule 2",
\t\t\t"selection": {
\t\t\t\t"tagStatus": "tagged",
\t\t\t\t"tagPrefixList": ["beta"],
\t\t\t\t"countType": "imageCountMoreThan",
\t\t\t\t"countNumber": 1
\t\t\t},
\t\t\t"action": {"type": "expire"}
\t\t}
\t]
}
"""


def test_json_with_tabs_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(MULTIPLE_RULES)
    policy = load_policy(str(path))
    assert policy.repositories == ("127.0.0.1:5000/team/app",)
    first, second = policy.rules
    assert (first.tag_patterns, second.tag_prefixes) == (("prod*",), ("beta",))
    assert (first.tag_status, first.count_type) == (
        TagStatus.TAGGED,
        CountType.IMAGE_COUNT_MORE_THAN,
    )
    assert [first.selects(["prod-1", "x"]), first.selects(["beta-1"])] == [True, False]
    assert [second.selects(["beta-1"]), second.selects([])] == [True, False]


def test_every_problem_is_reported_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "repositories: [team/app]\n"
        "rules:\n"
        "- rulePriority: 1\n"
        "  selection:\n"
        "    tagStatus: tagged\n"
        "    countType: sinceImagePushed\n"
        "    countNumber: 0\n"
        "  action: {type: transition}\n"
        "- rulePriority: 2\n"
        "  selection: {tagStatus: any, countType: sinceImagePulled, countNumber: 3}\n"
        "  action: {type: expire}\n"
        "  priority: 1\n"
        "- rulePriority: 1\n"
        "  selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 3,"
        " countUnit: days}\n"
        "  action: {type: expire}\n"
    )
    with pytest.raises(PolicyError) as error:
        load_policy(str(path))
    assert str(error.value) == "\n".join(
        f"{path}:{line}"
        for line in [
            "1:16: repositories[0]: name must begin with a registry host such as docker.io/"
            " or 127.0.0.1:5000/",
            "5:5: rules[0].selection: tagStatus tagged needs a tagPrefixList or a tagPatternList",
            "5:5: rules[0].selection: countType sinceImagePushed, sinceImagePulled and"
            " sinceImageTransitioned need countUnit: days",
            "7:18: rules[0].selection.countNumber: countNumber must be a whole number of at"
            " least 1",
            "8:11: rules[0].action: action transition needs targetStorageClass: archive",
            "8:18: rules[0].action.type: transition is not supported: the distribution API has"
            " no storage classes; tagmgr only expires",
            "9:3: rules[1]: countType sinceImagePulled goes only with action transition",
            "10:14: rules[1].selection: countType sinceImagePushed, sinceImagePulled and"
            " sinceImageTransitioned need countUnit: days",
            "10:42: rules[1].selection.countType: sinceImagePulled is not supported: the"
            " distribution API records no pull time",
            "12:3: rules[1].priority: unknown key 'priority'; did you mean 'rulePriority'?",
            "13:17: rules[2].rulePriority: rulePriority 1 is used twice (rules[0]); each is unique",
            "13:17: rules[2].rulePriority: a rule with tagStatus any must have the highest"
            " rulePriority of the rules for standard images",
            "14:14: rules[2].selection: countType imageCountMoreThan takes no countUnit",
        ]
    )


def test_not_yaml_is_located(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"rules": [\n  {"rulePriority": 1,,}\n]}\n')
    with pytest.raises(PolicyError) as error:
        load_policy(str(path))
    assert str(error.value) == f"{path}:2:22: YAML syntax error: did not find expected node content"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--keep-newer-than", "7x", "'7x': expected a number and d, h, m or s, such as 7d or 12h"),
        ("--keep-newer-than", "3000000d", "'3000000d': at most 36500d (100 years)"),
        ("--keep-newer-than", "99999999999d", "'99999999999d': at most 36500d (100 years)"),
        ("--keep-newer-than", "876001h", "'876001h': at most 36500d (100 years)"),
        (
            "--max-delete-share",
            "150%",
            "'150%': expected a percentage from 0% to 100%, such as 50%",
        ),
    ],
)
def test_bad_expire_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["expire", "--policy", "p.json", option, value])
    assert exited.value.code == exitcodes.USAGE
    assert capsys.readouterr().err.endswith(f"argument {option}: {message}\n")


def test_grace_and_share_values() -> None:
    assert [parse_age(text) for text in ("7d", "12h", "30m", "0", "36500d", "876000h")] == [
        timedelta(days=7),
        timedelta(hours=12),
        timedelta(minutes=30),
        timedelta(0),
        timedelta(days=36500),
        timedelta(days=36500),
    ]
    assert [parse_share(text) for text in ("50%", "0", "12.5%")] == [0.5, 0.0, 0.125]
