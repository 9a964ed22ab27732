"""The published JSON Schema: valid, documented, and built from the same grammar as the code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tagmgr.changes import versions
from tagmgr.documents.schema import compiled, schema_errors, validator
from tagmgr.lifecycle import policyfile
from tagmgr.manifest import DESCRIBE_PLACEHOLDER, SCHEMA_PATH, load_manifest_schema, load_manifests
from tagmgr.oci.reference import MAX_NAME_LENGTH, REGISTRY_PATTERN, REPOSITORY_PATTERN, TAG_PATTERN
from tests.support.paths import REPO_ROOT as ROOT
from tests.unit.manifest import test_validate as cases
from tests.unit.manifest.test_load import STARLINGX

TAG_FIRST = "[A-Za-z0-9_]"
TAG_REST = "[A-Za-z0-9._-]"


def test_schema_is_valid_draft_2020_12_and_found_from_the_package() -> None:
    assert SCHEMA_PATH.resolve() == ROOT / "schemas" / "manifest.schema.json"
    Draft202012Validator.check_schema(load_manifest_schema())


def test_patterns_are_the_ones_reference_py_uses() -> None:
    image = load_manifest_schema()["$defs"]["image"]["properties"]
    registry_first = (
        r"(?=[^/]*[.:]|localhost/)"  # docker's rule, as in reference.looks_like_registry
    )
    assert image["name"]["pattern"] == (
        f"^{registry_first}(?:{REGISTRY_PATTERN})/(?:{REPOSITORY_PATTERN})$"
    )
    assert image["name"]["maxLength"] == MAX_NAME_LENGTH
    assert image["src_build_tag"]["pattern"] == f"^(?:{TAG_PATTERN})$"
    literal, template = image["tag"]["anyOf"]
    assert literal == {"pattern": f"^(?:{TAG_PATTERN})$"}
    assert f"{TAG_FIRST}{TAG_REST}{{0,127}}" == TAG_PATTERN
    assert template == {
        "pattern": f"^(?:{TAG_FIRST}{TAG_REST}*)?\\{{describe\\}}{TAG_REST}*$",
        "maxLength": 128 + len(DESCRIBE_PLACEHOLDER),
    }
    prefix = load_manifest_schema()["properties"]["tag_prefix"]
    assert prefix["pattern"] == f"^{TAG_FIRST}{TAG_REST}{{0,99}}$"


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    defs = schema["$defs"]
    found = list(schema["properties"].items())
    for definition in defs.values():
        found += definition["properties"].items()
    return [
        (name, defs[sub["$ref"].rsplit("/", 1)[1]] if "$ref" in sub else sub) for name, sub in found
    ]


def test_every_property_has_a_title_and_a_description_for_editors() -> None:
    undocumented = [
        name
        for name, sub in _properties(load_manifest_schema())
        if not sub.get("title") or not sub.get("description")
    ]
    assert undocumented == []


def _with_upstream_repo(repo: str) -> dict[str, Any]:
    upstream = {"repo": repo, "commit": "abcd"}
    return {"images": [{"name": "docker.io/a/b", "src_build_tag": "b", "upstream": upstream}]}


@pytest.mark.parametrize(
    "repo",
    [
        "https://github.com/intel/intel-device-plugins-for-kubernetes",
        "http://127.0.0.1:8080/r.git",
        "ssh://git@example.com:2222/r.git",
        "https://github.com:443/o/r.git",
        "git://example.com/r",
        "file:///srv/git/r",
        "git@github.com:org/r.git",
        "example.com:/srv/r",
        "../upstreams/other",
        "/srv/git/r",
        "r",
    ],
)
def test_repository_forms_git_understands_are_accepted(repo: str) -> None:
    data = _with_upstream_repo(repo)
    data["tag_prefix"] = "v"
    assert schema_errors(data, SCHEMA_PATH) == []


@pytest.mark.parametrize(
    "repo",
    [
        "ext::sh -c touch% /tmp/pwned",
        "fd::17",
        "-uhttps://x",
        "ssh://-oProxyCommand=x/r",
        "ssh://git@-host/r",
        "ssh://-oProxyCommand=x@host/r",
        "https://",
        "file://",
        "ftp://example.com/r",
        "https://ci-bot:ghp_TOKEN@github.com/o/r.git",
        "https://:ghp_TOKEN@github.com/o/r.git",
        "ssh://git:secret@example.com:2222/r.git",
        "http://u:p@ss@127.0.0.1/r",
        "dir/a:b",
        "https://example.com/r\n",
    ],
)
def test_dangerous_or_unknown_repository_forms_are_refused(repo: str) -> None:
    data = _with_upstream_repo(repo)
    data["tag_prefix"] = "v"
    assert [error.validator for error in schema_errors(data, SCHEMA_PATH)] == ["pattern"]


def test_example_manifests_load_and_starlingx_is_the_reviewed_text() -> None:
    examples = sorted(str(path) for path in (ROOT / "manifests").glob("*.yaml"))
    assert load_manifests(examples)
    text = (ROOT / "manifests" / "starlingx.yaml").read_text(encoding="utf-8")
    first_line = "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
    assert text == first_line + STARLINGX
    assert (
        ROOT / "manifests" / "../schemas/manifest.schema.json"
    ).resolve() == SCHEMA_PATH.resolve()


def _documents() -> list[object]:
    """Valid and refused documents: every refused value the validation tests try, in every field
    it fits, and entries missing keys, with and without tag_prefix."""
    refused_values: Any = cases.test_refused_values_are_explained_at_the_value  # marked by pytest
    [mark] = refused_values.pytestmark
    values = {value for _, value, _ in mark.args[1]} | {"v1\n", "x{describe}", "\u2028", "é"}
    entry = {key: cases.FULL[key] for key in ("name", "src_build_tag", "tag", "src_ref")}
    upstream = {key: cases.FULL[key] for key in ("repo", "commit", "match")}
    documents: list[object] = [None, [], {}, {"images": None}, {"images": "x"}]
    for prefix in ({}, {"tag_prefix": "stx-"}):
        variants = [{**entry, "upstream": upstream}, entry, {"name": "docker.io/a/b"}]
        variants += [{**entry, "tag": "{describe}"}, {**entry, "extra": "x"}]
        variants += [{**entry, key: value} for key in entry for value in values]
        variants += [
            {**entry, "upstream": {**upstream, key: value}} for key in upstream for value in values
        ]
        variants += [{**entry, "upstream": {"repo": "r"}}, {"src_build_tag": "b", "tag": 1}]
        documents += [{**prefix, "images": [variant]} for variant in variants]
        documents += [{**prefix, "tag_prefix": value, "images": []} for value in values]
    return documents


def _versions_documents() -> list[object]:
    """Versions files: every value kind each field may or may not hold, and missing names."""
    values: list[object] = [None, "", "v1.2.3", "v1\n", "bad tag", "x" * 129, "auto", "manual", 1]
    values += ["docker.io/vro/a", "Docker.io/vro/A", "vro/a"]
    entry = {"name": "docker.io/vro/a", "version": "v1", "pin": "auto"}
    documents: list[object] = [None, [], {}, {"images": None}, {"images": []}, {"images": "x"}]
    documents += [{"images": [{**entry, key: value}]} for key in entry for value in values]
    documents += [{"images": [{"version": "v1"}]}, {"images": [{**entry, "tag": "x"}]}]
    return documents


def _policy_documents() -> list[object]:
    """Lifecycle policies: every value kind each selection and action field may or may not hold,
    and the combinations ECR refuses."""
    values: list[object] = [None, "", 0, 1, 36501, 10**7, True, "tagged", "any", "days", "x"]
    values += [[], ["v"], ["a*b*c*d*e*f"], "archive", "expire", "transition", "sinceImagePulled"]
    selection: dict[str, object] = {"tagStatus": "tagged", "tagPrefixList": ["v"]}
    selection |= {"countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3}
    action: dict[str, object] = {"type": "expire"}
    rule: dict[str, object] = {"rulePriority": 1, "selection": selection, "action": action}
    documents: list[object] = [None, [], {}, {"rules": []}, {"rules": "x"}, {"rules": [rule]}]
    documents += [
        {"rules": [{**rule, "selection": {**selection, key: value}}]}
        for key in [*selection, "tagPatternList", "storageClass"]
        for value in values
    ]
    documents += [
        {"rules": [{**rule, "action": {**action, key: value}}]}
        for key in ("type", "targetStorageClass")
        for value in values
    ]
    documents += [{"rules": [{**rule, key: value}]} for key in rule for value in values]
    return documents


@pytest.mark.parametrize(
    ("schema_path", "documents", "count"),
    [
        (SCHEMA_PATH, _documents, 200),
        (versions.SCHEMA_PATH, _versions_documents, 40),
        (policyfile.SCHEMA_PATH, _policy_documents, 200),
    ],
)
def test_the_compiled_schema_and_jsonschema_agree(
    schema_path: Path, documents: Callable[[], list[object]], count: int
) -> None:
    """The compiled check alone passes a document, so it must never pass one jsonschema refuses."""
    disagreements = []
    for document in documents():
        compiled_valid = compiled(schema_path).is_valid(document)
        if compiled_valid != (not list(validator(schema_path).iter_errors(document))):
            disagreements.append(document)
    assert disagreements == []
    assert len(documents()) > count
