"""A document's data checked against its JSON Schema, each error made a located problem in words.

A document is first checked by the schema compiled in Rust (jsonschema-rs), which only says
valid or not, far faster than walking the schema in Python (jsonschema); only a document it
refuses is walked, for every error with its path; so jsonschema, slow to import, is imported
only then (the figures: docs/design.md).

Every error is reported: a missing key at its mapping, an unknown key at the key, a rule across
fields (a ``not``) at their mapping, and a bad value at the value, where several rules refuse one
value the best of them (``jsonschema.exceptions.best_match``). The words come from the kind of
document's ``Words``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema_rs

from tagmgr.documents.explain import clip, unknown_key
from tagmgr.documents.located import FieldPath, LocatedDocument, render_path
from tagmgr.errors import Location, Problem

if TYPE_CHECKING:
    # jsonschema ships no type hints; types-jsonschema is not among the dev dependencies.
    from jsonschema import ValidationError  # type: ignore[import-untyped]
    from jsonschema.protocols import Validator  # type: ignore[import-untyped]

_Finding = tuple[FieldPath, Location, str]


class Words(Protocol):
    """What to tell a person about a key the schema misses and a value it refuses."""

    def missing_key(self, key: str, instance: Mapping[str, object]) -> str: ...

    def bad_value(self, path: FieldPath, error: ValidationError) -> str: ...


class Described:
    """Words from the schema itself: a refused value is "not" its rule's ``description``, else
    ``otherwise``."""

    def __init__(self, otherwise: str = "what the schema allows") -> None:
        self.otherwise = otherwise

    def missing_key(self, key: str, instance: Mapping[str, object]) -> str:
        return f"missing required key {key!r}"

    def bad_value(self, path: FieldPath, error: ValidationError) -> str:
        wanted = error.schema.get("description", self.otherwise)
        return f"{clip(json.dumps(error.instance))} is not {wanted}"


@cache
def load_schema(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def schema_errors(data: object, schema_path: Path) -> list[ValidationError]:
    if compiled(schema_path).is_valid(data):
        return []
    return list(validator(schema_path).iter_errors(data))


def describe_errors(
    doc: LocatedDocument, errors: Sequence[ValidationError], words: Words
) -> list[Problem]:
    """One problem per missing key, unknown key and bad value, skipping what ``doc`` reported."""
    if not errors:
        return []
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]  # noqa: PLC0415

    findings: list[_Finding] = []
    bad_values: dict[FieldPath, list[ValidationError]] = defaultdict(list)
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "required":
            findings += _missing_keys(doc, path, error, words)
        elif error.validator == "additionalProperties":
            findings += _unknown_keys(doc, path, error)
        elif error.validator == "not":  # a rule across fields: each one a problem of its own
            findings.append((path, doc.location(path), words.bad_value(path, error)))
        else:
            bad_values[path].append(error)
    for path, group in bad_values.items():
        best = best_match(group) or group[0]
        findings.append((path, doc.location(path), words.bad_value(path, best)))
    return [
        Problem(location, render_path(path), message)
        for path, location, message in findings
        if not doc.is_reported(path)
    ]


def _missing_keys(
    doc: LocatedDocument, path: FieldPath, error: ValidationError, words: Words
) -> list[_Finding]:
    return [
        (path, doc.location(path), words.missing_key(key, error.instance))
        for key in error.validator_value
        if key not in error.instance
    ]


def _unknown_keys(doc: LocatedDocument, path: FieldPath, error: ValidationError) -> list[_Finding]:
    allowed = list(error.schema.get("properties", {}))
    found = []
    for key in error.instance:
        if key not in allowed:
            child = (*path, key)
            location = doc.key_location(child) or doc.location(path)
            found.append((child, location, unknown_key(key, allowed)))
    return found


@cache
def compiled(schema_path: Path) -> jsonschema_rs.Validator:
    """The schema compiled by jsonschema-rs: draft 2020-12 as the schemas say, with ECMA-262
    regexes, whose final '$' is the end of the text (``_ecma_pattern`` makes jsonschema agree).
    tests/unit/manifest/test_schema.py checks that both validators agree on every test document."""
    return jsonschema_rs.validator_for(load_schema(schema_path))


@cache
def validator(schema_path: Path) -> Validator:
    return validator_for(load_schema(schema_path))


def validator_for(schema: Mapping[str, Any]) -> Validator:
    """A draft 2020-12 validator for ``schema`` whose patterns end as ECMA-262's do."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415
    from jsonschema.validators import extend  # type: ignore[import-untyped]  # noqa: PLC0415

    validator_class = extend(Draft202012Validator, {"pattern": _ecma_pattern})
    return validator_class(schema)


def _ecma_pattern(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """JSON Schema patterns are ECMA-262, whose final '$' is the end of the text.

    Python's '$' also matches before a final newline, which would let "v1\\n" (from a '|' block)
    pass as a tag.
    """
    from jsonschema import ValidationError  # noqa: PLC0415

    if isinstance(instance, str) and not _ecma_regex(pattern).search(instance):
        yield ValidationError("does not match the pattern")


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)
