"""An ECR lifecycle-policy document (JSON or YAML) in, a ``Policy`` out, or every problem located.

A policy written for ECR loads as it is. tagmgr adds one optional top-level key,
``repositories:``, naming the repositories (``registry/repository``) it applies to. What the
distribution API cannot do is refused by name rather than ignored: it records no pull time
(``sinceImagePulled``) and has no storage classes (``transition``, ``archive``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tagmgr.documents.explain import unknown_key
from tagmgr.documents.located import FieldPath, LocatedDocument
from tagmgr.documents.yamlfile import load_documents
from tagmgr.errors import ManifestError, Problem
from tagmgr.lifecycle.policy import CountType, Policy, Rule, TagStatus
from tagmgr.oci.reference import explain_invalid_name

E = TypeVar("E", TagStatus, CountType)
MAX_WILDCARDS = 4
_TOP_KEYS = ["rules", "repositories"]
_RULE_KEYS = ["rulePriority", "description", "selection", "action"]
_SELECTION_KEYS = [
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
]
_ACTION_KEYS = ["type", "targetStorageClass"]
_UNSUPPORTED_COUNT_TYPES = {
    "sinceImagePulled": "the distribution API records no pull time",
    "sinceImageTransitioned": "the distribution API has no storage classes",
}


def load_policy(path: str) -> Policy:
    documents = load_documents(path)
    checker = _Checker(documents[0] if len(documents) == 1 else LocatedDocument(path))
    if len(documents) != 1:
        checker.problem((), "a policy is one JSON or YAML document")
    policy = checker.policy()
    if checker.problems:
        raise ManifestError(checker.problems)
    return policy


@dataclass
class _Checker:
    doc: LocatedDocument
    problems: list[Problem] = field(default_factory=list)

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        location = (self.doc.key_location(path) if key else None) or self.doc.location(path)
        self.doc.problem(location, path, message)
        self.problems = self.doc.problems

    def policy(self) -> Policy:
        self.problems = self.doc.problems
        top = self.mapping((), self.doc.data, _TOP_KEYS, "the top level")
        raw_rules = top.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            self.problem(("rules",) if "rules" in top else (), "needs a non-empty 'rules' list")
            raw_rules = []
        rules = {i: r for i, item in enumerate(raw_rules) if (r := self.rule(("rules", i), item))}
        self.check_priorities(raw_rules)
        return Policy(
            self.doc.file,
            tuple(sorted(rules.values(), key=lambda r: r.priority)),
            self.repositories(top.get("repositories", [])),
        )

    def mapping(
        self, path: FieldPath, value: object, allowed: list[str], what: str
    ) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.problem(path, f"{what} must be a mapping")
            return {}
        for key in value:
            if key not in allowed:
                self.problem((*path, key), unknown_key(key, allowed), key=True)
        return value

    def rule(self, path: FieldPath, value: object) -> Rule | None:
        data = self.mapping(path, value, _RULE_KEYS, "a rule")
        priority = self.count(path, data, "rulePriority")
        description = data.get("description", "")
        if not isinstance(description, str):
            self.problem((*path, "description"), "must be text")
        selection = self.mapping(
            (*path, "selection"), data.get("selection"), _SELECTION_KEYS, "selection"
        )
        self.action((*path, "action"), data.get("action"))
        status = self.choice((*path, "selection"), selection, "tagStatus", TagStatus)
        count_type = self.count_type((*path, "selection"), selection)
        number = self.count((*path, "selection"), selection, "countNumber")
        prefixes = self.texts((*path, "selection"), selection, "tagPrefixList")
        patterns = self.texts((*path, "selection"), selection, "tagPatternList")
        self.check_tags((*path, "selection"), status, prefixes, patterns)
        if None in (priority, status, count_type, number) or not isinstance(description, str):
            return None
        return Rule(
            priority=priority or 0,
            description=description,
            tag_status=status or TagStatus.ANY,
            count_type=count_type or CountType.IMAGE_COUNT_MORE_THAN,
            count_number=number or 0,
            location=self.doc.location(path),
            tag_prefixes=tuple(prefixes),
            tag_patterns=tuple(patterns),
        )

    def action(self, path: FieldPath, value: object) -> None:
        data = self.mapping(path, value, _ACTION_KEYS, "action")
        if data and data.get("type") != "expire":
            self.problem(
                (*path, "type"), "must be 'expire'; the distribution API has no storage classes"
            )
        if "targetStorageClass" in data:
            self.problem(
                (*path, "targetStorageClass"), "the distribution API has no storage classes"
            )

    def count_type(self, path: FieldPath, selection: Mapping[str, Any]) -> CountType | None:
        value = selection.get("countType")
        if value in _UNSUPPORTED_COUNT_TYPES:
            self.problem(
                (*path, "countType"), f"{value} is not supported: {_UNSUPPORTED_COUNT_TYPES[value]}"
            )
            return None
        count_type = self.choice(path, selection, "countType", CountType)
        unit = selection.get("countUnit")
        if count_type is CountType.SINCE_IMAGE_PUSHED and unit != "days":
            where = (*path, "countUnit") if "countUnit" in selection else path
            self.problem(where, "sinceImagePushed needs countUnit: days")
        if count_type is CountType.IMAGE_COUNT_MORE_THAN and "countUnit" in selection:
            self.problem((*path, "countUnit"), "imageCountMoreThan takes no countUnit")
        if selection.get("storageClass", "standard") != "standard":
            self.problem(
                (*path, "storageClass"), "only 'standard': the distribution API has no archive"
            )
        return count_type

    def choice(self, path: FieldPath, data: Mapping[str, Any], key: str, kind: type[E]) -> E | None:
        value = data.get(key)
        choices = [member.value for member in kind]
        if value not in choices:
            where = (*path, key) if key in data else path
            self.problem(where, f"{key} must be one of: {', '.join(choices)}")
            return None
        return kind(value)

    def count(self, path: FieldPath, data: Mapping[str, Any], key: str) -> int | None:
        value = data.get(key)
        if type(value) is not int or value < 1:
            where = (*path, key) if key in data else path
            self.problem(where, f"{key} must be a whole number of at least 1")
            return None
        return value

    def texts(self, parent: FieldPath, data: Mapping[str, Any], key: str) -> list[str]:
        path = (*parent, key)
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(path, "must be a list of non-empty texts")
            return []
        for index, pattern in enumerate(value):
            if key == "tagPatternList" and pattern.count("*") > MAX_WILDCARDS:
                self.problem((*path, index), f"at most {MAX_WILDCARDS} wildcards (*) per pattern")
        return value

    def check_tags(
        self, path: FieldPath, status: TagStatus | None, prefixes: list[str], patterns: list[str]
    ) -> None:
        if status is TagStatus.TAGGED and not (prefixes or patterns):
            self.problem(path, "tagStatus tagged needs a tagPrefixList or tagPatternList")
        if status in (TagStatus.UNTAGGED, TagStatus.ANY) and (prefixes or patterns):
            self.problem(path, f"tagStatus {status} takes no tagPrefixList or tagPatternList")

    def check_priorities(self, raw_rules: list[object]) -> None:
        """Unique priorities, and ``any`` last: checked on what was written, even in rules
        with other problems."""
        written = {
            index: (item["rulePriority"], item.get("selection"))
            for index, item in enumerate(raw_rules)
            if isinstance(item, dict) and type(item.get("rulePriority")) is int
        }
        highest = max((priority for priority, _ in written.values()), default=0)
        seen: set[int] = set()
        for index, (priority, selection) in written.items():
            path: FieldPath = ("rules", index, "rulePriority")
            if priority in seen:
                self.problem(path, f"rulePriority {priority} is used twice; each is unique")
            seen.add(priority)
            status = selection.get("tagStatus") if isinstance(selection, dict) else None
            if status == TagStatus.ANY and priority != highest:
                self.problem(path, "a rule with tagStatus any must have the highest rulePriority")

    def repositories(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(
                ("repositories",), "must be a list of names such as 127.0.0.1:5000/team/app"
            )
            return ()
        for index, name in enumerate(value):
            reason = explain_invalid_name(name)
            if reason:
                self.problem(("repositories", index), reason)
        return tuple(value)
