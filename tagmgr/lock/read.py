"""Lock files in: JSON read with line marks, checked against ``schemas/lock.schema.json``.

A lock is JSON, which is YAML: the manifest's located YAML reader gives every value its line and
column, so a hand-edited or truncated lock is reported where it went wrong, never as a traceback.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

# jsonschema ships no type hints (see tagmgr.manifest.validate).
from jsonschema import ValidationError  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

from tagmgr.documents.explain import clip, unknown_key
from tagmgr.documents.located import FieldPath, LocatedDocument, render_path
from tagmgr.documents.textfile import read_text
from tagmgr.documents.yamldoc import parse_yaml
from tagmgr.errors import InvalidReferenceError, Location, LockError, Problem
from tagmgr.lock.model import Lock, LockedPlatform, LockedUpstream, LockEntry
from tagmgr.manifest.explain import missing_key
from tagmgr.manifest.validate import validator_for
from tagmgr.oci.reference import ImageReference

SCHEMA_PATH = Path(__file__).with_name("lock.schema.json")
MAX_LOCK_BYTES = 16 * 1024 * 1024


@cache
def load_lock_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def read_lock(path: Path) -> Lock:
    """The lock in ``path``; ``LockError`` naming every problem, each with line and column."""
    file = str(path)
    doc = parse_yaml(file, _read_text(path))
    problems = list(doc.problems)
    if not problems:
        errors = list(validator_for(load_lock_schema()).iter_errors(doc.data))
        problems += [_problem(doc, error) for error in _best_per_path(errors)]
    if problems:
        raise LockError(problems)
    return _lock(doc)


def _read_text(path: Path) -> str:
    text = read_text(str(path), "lock file", MAX_LOCK_BYTES, regular_only=False)
    if isinstance(text, Problem):
        raise LockError([text])
    if not text.strip():
        start = Location(str(path), 1, 1)
        raise LockError([Problem(start, "", "the file is empty; write one with tagmgr lock")])
    return text


def _best_per_path(errors: list[ValidationError]) -> list[ValidationError]:
    groups: dict[FieldPath, list[ValidationError]] = {}
    for error in errors:
        groups.setdefault(tuple(error.absolute_path), []).append(error)
    return [best_match(group) or group[0] for group in groups.values()]


def _problem(doc: LocatedDocument, error: ValidationError) -> Problem:
    path: FieldPath = tuple(error.absolute_path)
    location = doc.location(path)
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        message = "; ".join(missing_key(key, error.instance) for key in missing)
    elif error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        unknown = [key for key in error.instance if key not in allowed]
        path = (*path, unknown[0])
        location = doc.key_location(path) or location
        message = unknown_key(unknown[0], allowed)
    else:
        wanted = error.schema.get("description", "the lock file schema's rule")
        message = f"{clip(json.dumps(error.instance))} is not {wanted}"
    return Problem(location, render_path(path), message)


def _lock(doc: LocatedDocument) -> Lock:
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # the schema vouches for it
    entries: dict[ImageReference, int] = {}
    built, problems = [], []
    for index, item in enumerate(data["entries"]):
        where = doc.location(("entries", index))
        try:
            entry = _entry(item)
        except InvalidReferenceError as error:
            problems.append(Problem(where, f"entries[{index}]", str(error)))
            continue
        first = entries.setdefault(entry.target, index)
        if first != index:
            message = f"{entry.target} is locked twice; the first entry is entries[{first}]"
            problems.append(Problem(where, f"entries[{index}].target", message))
        built.append(entry)
    if problems:
        raise LockError(problems)
    return Lock.of(built)


def _entry(item: dict[str, Any]) -> LockEntry:
    upstream = item.get("upstream")
    return LockEntry(
        source=ImageReference.parse(item["source"]),
        target=ImageReference.parse(item["target"]),
        digest=item["digest"],
        media_type=item["media_type"],
        resolved_at=item["resolved_at"],
        platforms=tuple(LockedPlatform(p["platform"], p["digest"]) for p in item["platforms"]),
        src_ref=item.get("src_ref"),
        upstream=LockedUpstream(upstream["repo"], upstream["commit"], upstream["describe"])
        if upstream
        else None,
    )
