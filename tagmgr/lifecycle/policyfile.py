"""An ECR lifecycle-policy document (JSON or YAML) in, a ``Policy`` out, or every problem located.

Read as every reviewed file is (``documents.loader``): the text, YAML or JSON with its locations
(hidden characters refused), then ``schemas/lifecycle-policy.schema.json``, which says ECR's format
and what ECR checks within one rule. Then what no schema can say, on the values as written (even
in a rule with other problems, so that every problem is reported at once): ECR's checks across
rules, and what the distribution API cannot do, refused by name rather than ignored: it records no
pull time (``sinceImagePulled``) and has no storage classes (``transition``,
``sinceImageTransitioned`` and with it ``storageClass: archive``). tagmgr adds one optional
top-level key, ``repositories:``, naming the repositories (``registry/repository``) it applies to.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

from tagmgr.documents.explain import clip, wrong_type
from tagmgr.documents.loader import DocumentKind, check_schema, read_document
from tagmgr.documents.located import FieldPath, LocatedDocument
from tagmgr.documents.schema import Described
from tagmgr.documents.yamldoc import YamlRules
from tagmgr.errors import PolicyError
from tagmgr.lifecycle.policy import CountType, Policy, Rule, TagStatus
from tagmgr.oci.reference import explain_invalid_name

if TYPE_CHECKING:
    from jsonschema import ValidationError  # type: ignore[import-untyped]

# A link to schemas/lifecycle-policy.schema.json in a checkout; a copy of it in a built wheel.
SCHEMA_PATH = Path(__file__).with_name("lifecycle-policy.schema.json")
MAX_POLICY_BYTES = 1024 * 1024
_NOT_SUPPORTED = {
    "sinceImagePulled": "the distribution API records no pull time",
    "sinceImageTransitioned": "the distribution API has no storage classes",
    "transition": "the distribution API has no storage classes; tagmgr only expires",
}
_NAMES = {"type": "action"}  # how a field is called in a message, where its key says too little


class _PolicyWords(Described):
    """What the policy schema refuses, in words; a rule across fields by its description."""

    def bad_value(self, path: FieldPath, error: ValidationError) -> str:
        field = path[-1] if path and isinstance(path[-1], str) else "value"
        words = _WORDS.get(error.validator)
        return words(field, error) if words else super().bad_value(path, error)


def _choice(field: str, error: ValidationError) -> str:
    rule = error.validator
    choices = error.validator_value if rule == "enum" else [error.validator_value]
    shown = clip(json.dumps(error.instance))
    return f"{shown} is not a valid ECR {_NAMES.get(field, field)}; use {_or(choices)}"


def _too_many(field: str, error: ValidationError) -> str:
    most = f"{error.validator_value}, the most {error.schema['description']}"
    return f"{field} {error.instance} is more than {most}"


def _wildcards(_field: str, error: ValidationError) -> str:
    pattern = error.instance
    return f"{clip(pattern)!r} has {pattern.count('*')} wildcards (*); ECR allows at most 4"


_WORDS: dict[str, Callable[[str, ValidationError], str]] = {
    "not": lambda _field, error: str(error.schema["description"]),
    "enum": _choice,
    "const": _choice,
    "type": lambda _field, error: wrong_type(error.validator_value, error.instance),
    "minimum": lambda field, error: (
        f"{field} must be a whole number of at least {error.validator_value}"
    ),
    "maximum": _too_many,
    "minItems": lambda _field, _error: "must not be empty",
    "minLength": lambda _field, _error: "must not be empty",
    "pattern": _wildcards,
}


POLICY = DocumentKind(
    YamlRules(
        noun="policy",
        empty="the file is empty; a policy is a mapping with a 'rules:' list",
        needs="a policy needs 5",
        text_only=False,
        anchors=True,
    ),
    PolicyError,
    MAX_POLICY_BYTES,
    SCHEMA_PATH,
    _PolicyWords(),
    regular_only=False,
)


def load_policy(path: str) -> Policy:
    doc = read_document(path, POLICY)
    check_schema(doc, POLICY)
    data = doc.data if isinstance(doc.data, dict) else {}
    listed = data.get("rules")
    written = list(enumerate(listed if isinstance(listed, list) else []))
    checked = [_Written.of(index, rule) for index, rule in written]
    _check_across(doc, checked)
    for rule in checked:
        _refuse_unsupported(doc, rule)
    _check_repositories(doc, data.get("repositories"))
    if doc.problems:
        raise PolicyError(doc.problems)
    rules = sorted((_rule(doc, index, rule) for index, rule in written), key=lambda r: r.priority)
    return Policy(path, tuple(rules), tuple(data.get("repositories", ())))


class _Written(NamedTuple):
    """What ECR's checks across rules and tagmgr's refusals look at in one rule, as written:
    checked even in a rule with other problems, each value that is of its type (else None)."""

    at: int  # the rule's index
    priority: int | None
    storage_class: str
    status: str | None
    prefixes: frozenset[str] | None
    count_type: str | None
    action: str | None

    @classmethod
    def of(cls, index: int, rule: object) -> _Written:
        rule = rule if isinstance(rule, dict) else {}
        priority = rule.get("rulePriority")
        selection = rule.get("selection")
        selection = selection if isinstance(selection, dict) else {}
        action = rule.get("action")
        storage_class = selection.get("storageClass", "standard")
        prefixes = selection.get("tagPrefixList")
        return cls(
            index,
            priority if type(priority) is int else None,
            storage_class if isinstance(storage_class, str) else "standard",
            _text(selection.get("tagStatus")),
            frozenset(prefixes) if _texts(prefixes) else None,
            _text(selection.get("countType")),
            _text(action.get("type")) if isinstance(action, dict) else None,
        )


def _check_across(doc: LocatedDocument, rules: list[_Written]) -> None:
    """ECR's checks across rules: unique priorities; for each storage class, a rule with
    tagStatus any last, at most one rule for untagged images, no two with the same prefixes."""
    first_with: dict[int, int] = {}
    by_class: dict[str, list[_Written]] = defaultdict(list)
    for rule in rules:
        by_class[rule.storage_class].append(rule)
        if rule.priority is None:
            continue
        earlier = first_with.setdefault(rule.priority, rule.at)
        if earlier != rule.at:
            message = (
                f"rulePriority {rule.priority} is used twice (rules[{earlier}]); each is unique"
            )
            _problem(doc, ("rules", rule.at, "rulePriority"), message)
    for storage_class, group in by_class.items():
        _check_class(doc, storage_class, group)


def _check_class(doc: LocatedDocument, storage_class: str, rules: list[_Written]) -> None:
    highest = max((rule.priority for rule in rules if rule.priority is not None), default=0)
    untagged: list[int] = []
    prefixes: dict[frozenset[str], int] = {}
    for rule in rules:
        where: FieldPath = ("rules", rule.at, "selection")
        if rule.status == TagStatus.ANY and rule.priority not in (None, highest):
            _problem(
                doc,
                ("rules", rule.at, "rulePriority"),
                "a rule with tagStatus any must have the highest rulePriority of the rules for"
                f" {storage_class} images",
            )
        if rule.status == TagStatus.UNTAGGED:
            if untagged:
                message = (
                    f"rules[{untagged[0]}] selects untagged {storage_class} images already;"
                    " only one rule may"
                )
                _problem(doc, (*where, "tagStatus"), message)
            untagged.append(rule.at)
        if rule.prefixes is not None:
            earlier = prefixes.setdefault(rule.prefixes, rule.at)
            if earlier != rule.at:
                message = (
                    f"rules[{earlier}] has the same prefixes for {storage_class} images;"
                    " the rules of a storage class need a unique set of prefixes each"
                )
                _problem(doc, (*where, "tagPrefixList"), message)


def _refuse_unsupported(doc: LocatedDocument, rule: _Written) -> None:
    for value, path in (
        (rule.count_type, ("rules", rule.at, "selection", "countType")),
        (rule.action, ("rules", rule.at, "action", "type")),
    ):
        if value in _NOT_SUPPORTED:
            _problem(doc, path, f"{value} is not supported: {_NOT_SUPPORTED[value]}")


def _check_repositories(doc: LocatedDocument, names: object) -> None:
    if not isinstance(names, list):
        return
    for index, name in enumerate(names):
        sound = isinstance(name, str) and not doc.is_reported(("repositories", index))
        reason = explain_invalid_name(name) if sound else None
        if reason:
            _problem(doc, ("repositories", index), reason)


def _rule(doc: LocatedDocument, index: int, rule: Mapping[str, Any]) -> Rule:
    selection = rule["selection"]
    return Rule(
        priority=rule["rulePriority"],
        description=rule.get("description", ""),
        tag_status=TagStatus(selection["tagStatus"]),
        count_type=CountType(selection["countType"]),
        count_number=selection["countNumber"],
        location=doc.location(("rules", index)),
        tag_prefixes=tuple(selection.get("tagPrefixList", ())),
        tag_patterns=tuple(selection.get("tagPatternList", ())),
    )


def _problem(doc: LocatedDocument, path: FieldPath, message: str) -> None:
    doc.problem(doc.location(path), path, message)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _or(choices: list[object]) -> str:
    words = [str(choice) for choice in choices]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
