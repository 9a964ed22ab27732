"""Check manifests: the JSON Schema per file, then what a schema cannot see across files.

Schema errors become located problems: a missing key at its entry, an unknown key at the key, a
bad value at the value, each explained in words (``explain``), never as a regex.

A document is first checked by the schema compiled in Rust (jsonschema-rs), which only says
valid or not, tens of times faster than walking the schema in Python (jsonschema); only a
document it refuses is walked, for every error with its path; so jsonschema, a tenth of a
second to import, is imported only then.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from tagmgr.documents.explain import unknown_key
from tagmgr.documents.located import FieldPath, LocatedDocument, render_path
from tagmgr.errors import Location, Problem
from tagmgr.manifest import explain
from tagmgr.manifest.environments import DEFAULT_CHAIN, Chain
from tagmgr.manifest.model import DESCRIBE_PLACEHOLDER, ImageEntry, Manifest, Upstream
from tagmgr.oci.reference import normal_parts

if TYPE_CHECKING:
    # jsonschema ships no type hints; types-jsonschema is not among the dev dependencies.
    from jsonschema import ValidationError  # type: ignore[import-untyped]
    from jsonschema.protocols import Validator  # type: ignore[import-untyped]

# A link to schemas/manifest.schema.json in a checkout; a copy of it in a built wheel.
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")

_Finding = tuple[FieldPath, Location, str]
_TagOf = tuple[tuple[str, str], str]  # (registry, repository) as normalised, and a tag


@cache
def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def schema_errors(data: object, schema_path: Path = SCHEMA_PATH) -> list[ValidationError]:
    if _compiled(schema_path).is_valid(data):
        return []
    return list(_validator(schema_path).iter_errors(data))


def describe_errors(doc: LocatedDocument, errors: Sequence[ValidationError]) -> list[Problem]:
    """One problem per missing key, unknown key and bad value, skipping what ``doc`` reported."""
    if not errors:
        return []
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]  # noqa: PLC0415

    findings: list[_Finding] = []
    bad_values: dict[FieldPath, list[ValidationError]] = defaultdict(list)
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "required":
            findings += _missing_keys(doc, path, error)
        elif error.validator == "additionalProperties":
            findings += _unknown_keys(doc, path, error)
        else:
            bad_values[path].append(error)
    for path, group in bad_values.items():
        best = best_match(group) or group[0]
        findings.append((path, doc.location(path), _bad_value(path, best)))
    return [
        Problem(location, render_path(path), message)
        for path, location, message in findings
        if not doc.is_reported(path)
    ]


def conflicts(manifests: Sequence[Manifest]) -> list[Problem]:
    """A literal tag given to two different sources, reported at the later entry.

    Identical entries are fine: several files may list the same image.
    """
    seen: dict[_TagOf, list[tuple[Manifest, ImageEntry]]] = defaultdict(list)
    problems = []
    for manifest in manifests:
        for entry in manifest.entries:
            if entry.tag is None or DESCRIBE_PLACEHOLDER in entry.tag:
                continue
            registry, _, repository = entry.name.partition("/")  # a valid name: the schema said
            earlier = seen[normal_parts(registry, repository), entry.tag]
            problem = _first_clash(earlier, manifest, entry)
            if problem:
                problems.append(problem)
            earlier.append((manifest, entry))
    return problems


def environment_tags(manifests: Sequence[Manifest]) -> list[Problem]:
    """An entry whose tag is an environment or history tag: those move, a release tag never does.

    Each file's own ``environments`` count, else the default chain.
    """
    problems = []
    for manifest in manifests:
        chain = Chain(manifest.environments or DEFAULT_CHAIN)
        for entry in manifest.entries:
            if entry.tag is not None and chain.is_reserved(entry.tag):
                kind = "an environment" if entry.tag in chain else "a history tag of an environment"
                problems.append(
                    Problem(
                        entry.location("tag"),
                        f"{entry.field_path}.tag",
                        f"{entry.tag!r} is {kind} (environments: {', '.join(chain.names)});"
                        " environment tags move on promote and rollback, a release tag never does",
                    )
                )
    return problems


def _first_clash(
    earlier: list[tuple[Manifest, ImageEntry]], manifest: Manifest, entry: ImageEntry
) -> Problem | None:
    for old_manifest, old in earlier:
        difference = _difference(old_manifest, old, manifest, entry)
        if difference:
            where = old.location("tag")
            return Problem(
                entry.location("tag"),
                f"{entry.field_path}.tag",
                f"{entry.name}:{entry.tag} is already given to {difference}"
                f" at {where.file}:{where.line}; a tag can point to only one image",
            )
    return None


def resolve_repo(manifest_path: str, repo: str) -> str:
    """An upstream repo as git should see it: local paths are relative to the manifest's directory.

    URLs and user@host:path stay as written (the schema keeps ':' out of local paths); '~' is
    expanded, as gitcache.RepoSource does.
    """
    if ":" in repo:
        return repo
    base = os.path.dirname(os.path.abspath(manifest_path))
    return os.path.normpath(os.path.join(base, os.path.expanduser(repo)))


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


@cache
def _compiled(schema_path: Path) -> jsonschema_rs.Validator:
    """The schema compiled by jsonschema-rs: draft 2020-12 as the schemas say, with ECMA-262
    regexes, whose final '$' is the end of the text (``_ecma_pattern`` makes jsonschema agree).
    tests/test_schema.py checks that both validators agree on every test document."""
    return jsonschema_rs.validator_for(load_schema(schema_path))


def validator_for(schema: Mapping[str, Any]) -> Validator:
    """A draft 2020-12 validator for ``schema`` whose patterns end as ECMA-262's do."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415
    from jsonschema.validators import extend  # type: ignore[import-untyped]  # noqa: PLC0415

    validator_class = extend(Draft202012Validator, {"pattern": _ecma_pattern})
    return validator_class(schema)


@cache
def _validator(schema_path: Path) -> Validator:
    return validator_for(load_schema(schema_path))


def _missing_keys(doc: LocatedDocument, path: FieldPath, error: ValidationError) -> list[_Finding]:
    return [
        (path, doc.location(path), explain.missing_key(key, error.instance))
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


def _bad_value(path: FieldPath, error: ValidationError) -> str:
    field = path[-1] if path else ""
    if error.validator == "type":
        return explain.wrong_type(error.validator_value, error.instance, top_level=not path)
    if error.validator == "maxLength":
        length, limit = len(error.instance), error.validator_value
        return f"{field} is {length} characters long; at most {limit} are allowed"
    if isinstance(error.instance, str) and isinstance(field, str):
        return explain.invalid_value(field, error.instance)
    return f"does not match the manifest schema (rule {error.validator!r})"


def _difference(
    earlier_manifest: Manifest, earlier: ImageEntry, manifest: Manifest, entry: ImageEntry
) -> str | None:
    if earlier.src_build_tag != entry.src_build_tag:
        return f"src_build_tag {earlier.src_build_tag!r}"
    if earlier.src_digest and entry.src_digest and earlier.src_digest != entry.src_digest:
        return f"src_digest {earlier.src_digest!r}"
    if earlier.upstream and entry.upstream:
        same = _same_upstream(
            earlier_manifest.path, earlier.upstream, manifest.path, entry.upstream
        )
        return None if same else "a different upstream"
    return None


def _same_upstream(path_a: str, a: Upstream, path_b: str, b: Upstream) -> bool:
    """Same repository, same match and the same commit, abbreviated or not."""
    short, long = sorted((a.commit, b.commit), key=len)
    return (
        resolve_repo(path_a, a.repo) == resolve_repo(path_b, b.repo)
        and a.match == b.match
        and long.startswith(short)
    )
