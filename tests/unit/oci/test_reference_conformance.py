"""tagmgr's reference parser over the reference grammar's own test tables and the OCI spec.

Each row of ``docker_reference_cases`` must get Docker's answer, unless ``DIFFERENCES`` names it:
those are tagmgr's deliberate departures, each with tagmgr's own answer, and the docs page
docs/reference/image-references.md lists each one (checked below).
"""

from __future__ import annotations

import itertools
import re

import pytest

from tagmgr.errors import InvalidReferenceError
from tagmgr.oci.reference import (
    REPOSITORY_PATTERN,
    TAG_PATTERN,
    ImageReference,
    explain_invalid_registry,
    looks_like_registry,
)
from tests.support.paths import REPO_ROOT
from tests.unit.oci import docker_reference_cases as cases

CAPITAL_HOST = "is taken as a registry host, as Docker takes a first component with capital"
PORT = "is not a number from 1 to 65535"
NEEDS_REGISTRY = "name must begin with a registry host such as docker.io/ or 127.0.0.1:5000/"


SHA384 = "docker.io/library/x@sha384:" + "f" * 96


class Refused(str):
    """tagmgr refuses the input; the text is a part of its message."""


# Where tagmgr answers otherwise than Docker: input -> tagmgr's answer (its canonical string, or
# what it refuses with), and the words the docs page uses for the difference.
DIFFERENCES: dict[str, tuple[str | bool | Refused, str]] = {
    "Docker/docker": (Refused(CAPITAL_HOST), "capital"),
    "DOCKER/docker": (Refused(CAPITAL_HOST), "capital"),
    "Foo/bar": (Refused(CAPITAL_HOST), "capital"),
    "FOO/bar": (Refused(CAPITAL_HOST), "capital"),
    "Asdf.com/foo/bar": ("asdf.com/foo/bar", "lowercase"),
    "192.168.1.1:75050": (Refused(PORT), "port"),
    "192.168.1.1:750050": (Refused(PORT), "port"),
    "[fd00:1:2::3]:75050": (Refused(PORT), "port"),
    "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050": (Refused(PORT), "port"),
    "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505": (Refused(PORT), "port"),
    "[fd00123123123]:75050": (Refused("[fd00123123123] is not an IPv6 address"), "ipv6"),
    # Not from the tables: go-digest, which the Go package checks digests with, takes sha384.
    SHA384: (Refused("'sha384' is not supported"), "sha384"),
}

# The docs page's words for each kind of difference, so a new one cannot go undocumented.
DOC_WORDS = {
    "capital": "`LOCALDOMAIN/debian`",
    "lowercase": "`Asdf.com/x` is `asdf.com/x`",
    "port": "Ports are 1 to 65535",
    "ipv6": "an IPv6 host must be an address",
    "sha384": "`sha384`",
    "registry": "names its registry",
}


def familiar(text: str) -> str | Refused:
    """tagmgr's answer for what a user types: the canonical reference, or the refusal."""
    try:
        return str(ImageReference.parse_familiar(text))
    except InvalidReferenceError as error:
        return Refused(str(error))


def agrees(answer: str | Refused, expected: str | bool | Refused | None) -> bool:
    if isinstance(expected, Refused):
        return isinstance(answer, Refused) and expected in answer
    if expected is None:
        return isinstance(answer, Refused)
    return answer == expected


def expected_of(text: str, docker: str | bool | None) -> str | bool | Refused | None:
    return DIFFERENCES[text][0] if text in DIFFERENCES else docker


@pytest.mark.parametrize(("text", "docker"), cases.NORMALIZED)
def test_names_as_users_type_them_read_as_docker_reads_them(text: str, docker: str | None) -> None:
    assert agrees(familiar(text), expected_of(text, docker)), familiar(text)


@pytest.mark.parametrize(("text", "docker"), cases.PARSE)
def test_references_as_written(text: str, docker: cases.Parts | None) -> None:
    """Docker's ``Parse`` has no default registry; tagmgr's strict reading (manifests, lock files)
    wants one, and takes a first component for a registry by the rule Docker applies to what
    users type (``foo`` in ``foo/foo_bar.com`` is a Docker Hub namespace to both)."""
    try:
        ref = ImageReference.parse(text)
    except InvalidReferenceError as error:
        answer: cases.Parts | Refused = Refused(str(error))
    else:
        answer = (ref.registry, ref.repository, ref.tag or "", ref.digest or "")
    if docker is None:
        assert isinstance(answer, Refused)
    elif docker[0] and looks_like_registry(docker[0]):
        assert answer == docker
    else:
        assert isinstance(answer, Refused)
        assert NEEDS_REGISTRY in answer


@pytest.mark.parametrize(("host", "docker"), cases.DOMAINS)
def test_registry_hosts(host: str, docker: bool) -> None:
    problem = explain_invalid_registry(host)
    answer = Refused(problem) if problem else host.lower()
    expected = expected_of(host, host.lower() if docker else None)
    assert agrees(answer, expected), answer


@pytest.mark.parametrize(("name", "docker"), cases.NAMES)
def test_names(name: str, docker: bool) -> None:
    answer = familiar(name)
    is_name = not isinstance(answer, Refused) and not re.search(r"[:@][^/]*$", answer)
    if name in DIFFERENCES:
        assert agrees(answer, DIFFERENCES[name][0]), answer
    else:
        assert is_name is docker, answer


@pytest.mark.parametrize(("text", "docker"), cases.REFERENCES)
def test_whole_references(text: str, docker: tuple[str, str] | None) -> None:
    try:
        ref = ImageReference.parse_familiar(text)
    except InvalidReferenceError:
        assert docker is None
    else:
        assert (ref.tag or "", ref.digest or "") == docker


@pytest.mark.parametrize(("text", "identifier"), cases.IDENTIFIERS)
def test_an_image_id_is_never_a_name(text: str, identifier: bool) -> None:
    assert ("are an image ID, not a name" in familiar(text)) is identifier


def test_the_differences_are_pinned_and_documented() -> None:
    """Each difference is one the tables (or go-digest) hold, and the docs page names its kind."""
    tabled = {text for table in (cases.NORMALIZED, cases.DOMAINS, cases.NAMES) for text, _ in table}
    assert {text for text in DIFFERENCES if text not in tabled} == {SHA384}
    assert agrees(familiar(SHA384), DIFFERENCES[SHA384][0])
    page = (REPO_ROOT / "docs" / "reference" / "image-references.md").read_text()
    words_in_section = " ".join(page.split())
    missing = [words for words in DOC_WORDS.values() if words not in words_in_section]
    assert missing == []
    assert {kind for _, kind in DIFFERENCES.values()} <= DOC_WORDS.keys()


def _spelled(alphabet: str, longest: int) -> list[str]:
    return [
        "".join(letters)
        for size in range(1, longest + 1)
        for letters in itertools.product(alphabet, repeat=size)
    ]


def test_repository_and_tag_grammar_is_the_oci_distribution_specs() -> None:
    """Every short spelling over the characters that matter gets the spec's answer."""
    oci_name, ours = re.compile(cases.OCI_NAME), re.compile(REPOSITORY_PATTERN)
    names = _spelled("a0._-/A", 5)
    assert [n for n in names if bool(oci_name.fullmatch(n)) != bool(ours.fullmatch(n))] == []
    oci_tag, our_tag = re.compile(cases.OCI_TAG), re.compile(TAG_PATTERN)
    tags = [*_spelled("aZ0._-/", 4), "a" * 128, "a" * 129, "_" + "-" * 127]
    assert [t for t in tags if bool(oci_tag.fullmatch(t)) != bool(our_tag.fullmatch(t))] == []
