"""Check manifests: the JSON Schema per file (``documents.schema``), then what a schema cannot see
across files.

Schema errors are explained in words (``explain``), never as a regex: ``MANIFEST_WORDS``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagmgr.documents.located import FieldPath
from tagmgr.documents.schema import load_schema
from tagmgr.errors import Problem
from tagmgr.manifest import explain
from tagmgr.manifest.environments import DEFAULT_CHAIN, Chain
from tagmgr.manifest.model import DESCRIBE_PLACEHOLDER, ImageEntry, Manifest, Upstream
from tagmgr.oci.reference import normal_parts

if TYPE_CHECKING:
    # jsonschema ships no type hints; types-jsonschema is not among the dev dependencies.
    from jsonschema import ValidationError  # type: ignore[import-untyped]

# A link to schemas/manifest.schema.json in a checkout; a copy of it in a built wheel.
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")

_TagOf = tuple[tuple[str, str], str]  # (registry, repository) as normalised, and a tag


def load_manifest_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    return load_schema(path)


class ManifestWords:
    """What the manifest schema refuses, said as ``explain`` says it (the versions file too)."""

    def missing_key(self, key: str, instance: Mapping[str, object]) -> str:
        return explain.missing_key(key, instance)

    def bad_value(self, path: FieldPath, error: ValidationError) -> str:
        field = path[-1] if path else ""
        if error.validator == "type":
            return explain.wrong_type(error.validator_value, error.instance, top_level=not path)
        if error.validator == "maxLength":
            length, limit = len(error.instance), error.validator_value
            return f"{field} is {length} characters long; at most {limit} are allowed"
        if isinstance(error.instance, str) and isinstance(field, str):
            return explain.invalid_value(field, error.instance)
        return f"does not match the manifest schema (rule {error.validator!r})"


MANIFEST_WORDS = ManifestWords()


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
