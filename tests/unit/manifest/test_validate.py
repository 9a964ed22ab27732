"""Schema and semantic checks: each refused value explained in words, at its place."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tagmgr.manifest import load_manifests, resolve_repo
from tests.unit.manifest.test_load import STARLINGX, problems, write

DASH = "must not begin with '-' (it could be taken for a command-line option)"
TAG_CHARS = "only letters, digits, '_', '.' and '-' are allowed"

FULL = {
    "tag_prefix": "stx-",
    "name": "docker.io/a/b",
    "src_build_tag": "b1",
    "tag": "v1",
    "src_ref": "https://x.io/c/1",
    "repo": "https://x.io/r",
    "commit": "4f28657",
    "match": "v*",
}
PLACES = {
    "tag_prefix": ("1:13", "tag_prefix"),
    "name": ("3:9", "images[0].name"),
    "src_build_tag": ("4:18", "images[0].src_build_tag"),
    "tag": ("5:8", "images[0].tag"),
    "src_ref": ("6:12", "images[0].src_ref"),
    "repo": ("8:11", "images[0].upstream.repo"),
    "commit": ("9:13", "images[0].upstream.commit"),
    "match": ("10:12", "images[0].upstream.match"),
}


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def full_manifest(**changes: str) -> str:
    """Every field, each value double-quoted, at the line and column ``PLACES`` gives."""
    v = {key: json.dumps(value) for key, value in {**FULL, **changes}.items()}
    return (
        f"tag_prefix: {v['tag_prefix']}\n"
        "images:\n"
        f"- name: {v['name']}\n"
        f"  src_build_tag: {v['src_build_tag']}\n"
        f"  tag: {v['tag']}\n"
        f"  src_ref: {v['src_ref']}\n"
        "  upstream:\n"
        f"    repo: {v['repo']}\n"
        f"    commit: {v['commit']}\n"
        f"    match: {v['match']}\n"
    )


def test_the_full_manifest_is_valid() -> None:
    [manifest] = load_manifests([write("m.yaml", full_manifest())])
    assert manifest.entries[0].location("upstream.match").line == 10


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "docker.io/starlingx/K8s", "path component 'K8s' must be lowercase"),
        (
            "name",
            "docker.io/a//b",
            "path components must not be empty (no leading, trailing or double '/')",
        ),
        ("name", "docker.io/a/../b", "path component '..' must not contain '..'"),
        (
            "name",
            "starlingx/k8s",
            "name must begin with a registry host such as docker.io/ or 127.0.0.1:5000/",
        ),
        ("name", "bad_host.io/a", "registry 'bad_host.io' is not a valid host[:port]"),
        ("name", "docker.io/" + "a" * 250, "name is 260 characters long; at most 255 are allowed"),
        ("name", "", "name is empty"),
        ("name", "-docker.io/a", f"name {DASH}"),
        ("tag", "x" * 129, "tag is 129 characters long; at most 128 are allowed"),
        ("tag", ".v1", "tag '.v1' must begin with a letter, digit or '_'"),
        ("tag", "v1+b", "tag 'v1+b' may contain only letters, digits, '_', '.' and '-'"),
        ("tag", "", "tag is empty"),
        ("tag", "-v1", f"tag {DASH}"),
        (
            "tag",
            "{describe}-{describe}",
            "tag template uses {describe} 2 times; use it exactly once",
        ),
        (
            "tag",
            "v-{version}",
            "tag template has the unknown placeholder '{version}'; the only one is {describe}",
        ),
        (
            "tag",
            "v-{describe",
            "tag template has an unmatched brace; the only placeholder is {describe}",
        ),
        (
            "tag",
            "a" * 129 + "{describe}",
            "tag template has 129 characters besides {describe}; a tag is at most 128",
        ),
        ("tag", "v 1-{describe}", f"tag template must not contain ' ': {TAG_CHARS}"),
        ("tag", ".{describe}", "tag template must begin with a letter, digit or '_'"),
        ("src_build_tag", "b 1", "tag 'b 1' may contain only letters, digits, '_', '.' and '-'"),
        ("src_build_tag", "-b1", f"src_build_tag {DASH}"),
        ("tag_prefix", "-stx", f"tag_prefix {DASH}"),
        (
            "tag_prefix",
            "x" * 101,
            "tag_prefix is 101 characters long; at most 100 are allowed,"
            " leaving room for the version",
        ),
        ("tag_prefix", "stx 4", f"tag_prefix must not contain ' ': {TAG_CHARS}"),
        ("tag_prefix", ".stx", "tag_prefix must begin with a letter, digit or '_'"),
        ("src_ref", "-x", f"src_ref {DASH}"),
        ("src_ref", "a b", "src_ref must not contain whitespace"),
        ("src_ref", "", "src_ref must not be empty"),
        ("match", "--contains", f"match {DASH}"),
        ("match", "v *", "match must not contain whitespace"),
        ("repo", "-uhttps://x", f"repo {DASH}"),
        (
            "repo",
            "ext::sh -c touch% /tmp/pwned",
            "repo uses the remote-helper form 'ext::', which can run commands;"
            " use an https, ssh, git or file URL, user@host:path or a local path",
        ),
        (
            "repo",
            "ftp://x.io/r",
            "repo URL scheme 'ftp' is not supported; use https, http, ssh, git or file",
        ),
        (
            "repo",
            "ssh://-oProxyCommand=x/r",
            "repo URL needs a host, and neither host nor user may begin with '-'",
        ),
        ("repo", "https://x.io/a b", "repo must not contain whitespace"),
        (
            "repo",
            "dir/a:b",
            "repo 'dir/a:b' is neither a URL nor user@host:path, and a local path"
            " must not contain ':'",
        ),
        ("repo", "", "repo must not be empty"),
        ("commit", "4F28657", "commit '4F28657' must be lowercase, as git prints it"),
        ("commit", "4f2865z", "commit '4f2865z' must be hexadecimal digits (0-9, a-f)"),
        ("commit", "abc", "commit 'abc' is too short; give at least 4 hex digits"),
        ("commit", "a" * 41, "commit has 41 hex digits; a full commit id has 40"),
    ],
)
def test_refused_values_are_explained_at_the_value(field: str, value: str, message: str) -> None:
    place, path = PLACES[field]
    assert problems(write("m.yaml", full_manifest(**{field: value}))) == [
        f"m.yaml:{place}: {path}: {message}"
    ]


CREDENTIALS = (
    "repo URL has a password: credentials must not be written in the manifest;"
    " use a git credential helper or an SSH key"
)


@pytest.mark.parametrize(
    "repo",
    [
        "https://ci-bot:ghp_TOKEN@github.com/o/r.git",
        "https://:ghp_TOKEN@github.com/o/r.git",
        "ssh://git:ghp_TOKEN@example.org:2222/r.git",
        "http://ci-bot:ghp_TOKEN@with@at@127.0.0.1:8080/r",
    ],
)
def test_a_password_in_the_repo_url_is_refused_and_not_echoed(repo: str) -> None:
    found = problems(write("m.yaml", full_manifest(repo=repo)))
    assert found == [f"m.yaml:8:11: images[0].upstream.repo: {CREDENTIALS}"]
    assert "ghp_TOKEN" not in found[0]


def test_a_bracket_that_encloses_no_ipv6_host_is_refused_when_validated() -> None:
    """'https://[host/x' once passed validate and crashed describe (urllib refuses it)."""
    found = problems(write("m.yaml", full_manifest(repo="https://[git.example.com/x")))
    assert found == [
        "m.yaml:8:11: images[0].upstream.repo: repo URL has a bracket that does not enclose an"
        " IPv6 host, as in https://[::1]/r"
    ]
    assert load_manifests([write("m.yaml", full_manifest(repo="https://[::1]:8080/r.git"))])


def test_a_user_without_a_password_is_fine_over_ssh() -> None:
    for repo in ("ssh://git@example.org/r.git", "git://git@example.org/r", "git@h:o/r"):
        assert load_manifests([write("m.yaml", full_manifest(repo=repo))])


@pytest.mark.parametrize(
    "repo",
    ["https://ghp_TOKEN@github.com/o/r", "https://github.com/o/r?private_token=TOKEN"],
)
def test_an_https_url_with_a_user_part_or_a_query_is_refused(repo: str) -> None:
    """Where tokens go, and git would show either on its command line (ps, -vv)."""
    found = problems(write("m.yaml", full_manifest(repo=repo)))
    assert found == [
        "m.yaml:8:11: images[0].upstream.repo: repo https URL has a user part or a query, where"
        " tokens go, and git would show it on its command line: credentials must not be written"
        " in the manifest; use a git credential helper"
    ]


def test_unknown_keys_are_shown_at_the_key() -> None:
    text = (
        "images:\n"
        "- name: docker.io/a/b\n"
        "  src_buildtag: b1\n"
        "  tag: v1\n"
        "  colour: red\n"
        "  upstream: {repo: x, commit: abcd, branch: main}\n"
        "tagprefix: x\n"
    )
    assert problems(write("m.yaml", text)) == [
        "m.yaml:2:3: images[0]: missing required key 'src_build_tag'"
        " (or give the source by digest alone with 'src_digest')",
        "m.yaml:3:3: images[0].src_buildtag: unknown key 'src_buildtag'; did you mean"
        " 'src_build_tag'?",
        "m.yaml:5:3: images[0].colour: unknown key 'colour'; expected one of: name,"
        " src_build_tag, src_digest, src_ref, tag, upstream",
        "m.yaml:6:37: images[0].upstream.branch: unknown key 'branch'; expected one of:"
        " repo, commit, match",
        "m.yaml:7:1: tagprefix: unknown key 'tagprefix'; did you mean 'tag_prefix'?",
    ]


def test_missing_keys_are_shown_at_their_entry() -> None:
    text = (
        "images:\n"
        "- name: docker.io/a/b\n"  # 2: no tag, no upstream
        "  src_build_tag: b1\n"
        "- name: docker.io/a/c\n"  # 4: no tag, and no tag_prefix in this manifest
        "  src_build_tag: b1\n"
        "  upstream: {commit: abcd}\n"
        "- name: docker.io/a/d\n"  # 7: a template needs an upstream
        "  src_build_tag: b1\n"
        "  tag: v-{describe}\n"
        "- tag: v1\n"
    )
    assert problems(write("m.yaml", text)) == [
        "m.yaml:2:3: images[0]: missing required key 'tag' (it may be left out only when"
        " 'upstream' is given and the manifest has a 'tag_prefix')",
        "m.yaml:4:3: images[1]: missing required key 'tag': without it the tag is tag_prefix +"
        " '{describe}', and this manifest has no 'tag_prefix'",
        "m.yaml:6:13: images[1].upstream: missing required key 'repo'",
        "m.yaml:7:3: images[2]: missing required key 'upstream': the tag template needs an"
        " upstream commit to describe",
        "m.yaml:10:3: images[3]: missing required key 'name'",
        "m.yaml:10:3: images[3]: missing required key 'src_build_tag'"
        " (or give the source by digest alone with 'src_digest')",
    ]
    assert problems(write("n.yaml", "tag_prefix: x\n")) == [
        "n.yaml:1:1: missing required key 'images'"
    ]


def test_wrong_types_are_named_in_yaml_words() -> None:
    text = (
        "images:\n"
        "- name: [docker.io/a/b]\n"
        "  src_build_tag: {b: c}\n"
        "  tag: v1\n"
        "  upstream: https://x.io/r\n"
        "- just text\n"
    )
    assert problems(write("m.yaml", text), write("n.yaml", "images: {a: b}\n")) == [
        "m.yaml:2:9: images[0].name: must be text, not a list",
        "m.yaml:3:18: images[0].src_build_tag: must be text, not a mapping",
        "m.yaml:5:13: images[0].upstream: must be a mapping, not text",
        "m.yaml:6:3: images[1]: must be a mapping, not text",
        "n.yaml:1:9: images: must be a list or empty, not a mapping",
    ]


def test_one_tag_with_two_sources_is_refused_across_files() -> None:
    os.mkdir("sub")
    later = (
        "images:\n"
        "- name: index.docker.io/starlingx/k8s-cni-sriov\n"  # the same image, another spelling
        "  src_build_tag: master-centos-stable-20191203T153530Z.0\n"
        "  tag: stx.4.0-v2.2\n"  # 4: identical to STARLINGX's first entry: fine
        "- name: docker.io/starlingx/intel-gpu-plugin\n"
        "  src_build_tag: another-build\n"
        "  tag: stx.4.0-v0.11.0-103-g4f28657\n"  # 7: another source for that tag
        "- name: docker.io/library/busybox\n"
        "  src_build_tag: b1\n"
        "  tag: v1\n"
        "  upstream: {repo: ../r, commit: abcd}\n"
        "- name: docker.io/busybox\n"
        "  src_build_tag: b1\n"
        "  tag: v1\n"  # 14: same repository and an abbreviation of the same commit: fine
        "  upstream: {repo: ../sub/../r, commit: abcdef}\n"
        "- name: docker.io/busybox\n"
        "  src_build_tag: b1\n"
        "  tag: v1\n"  # 18: another upstream
        "  upstream: {repo: ../other, commit: abcd}\n"
    )
    first = write("stx.yaml", STARLINGX)
    assert problems(first, write("sub/later.yaml", later)) == [
        "sub/later.yaml:7:8: images[1].tag: docker.io/starlingx/intel-gpu-plugin:"
        "stx.4.0-v0.11.0-103-g4f28657 is already given to src_build_tag"
        " 'master-distroless-stable-20191203T153530Z.0' at stx.yaml:10; a tag can point to"
        " only one image",
        "sub/later.yaml:18:8: images[4].tag: docker.io/busybox:v1 is already given to"
        " a different upstream at sub/later.yaml:10; a tag can point to only one image",
    ]


def test_tags_from_describe_are_not_compared_before_describing() -> None:
    entry = (
        "- name: docker.io/a/b\n  src_build_tag: {build}\n  upstream: {{repo: r, commit: abcd}}\n"
    )
    text = "tag_prefix: v\nimages:\n" + entry.format(build="b1") + entry.format(build="b2")
    assert len(load_manifests([write("m.yaml", text)])[0].entries) == 2


def test_every_problem_of_every_file_at_once() -> None:
    traps = write("a.yaml", "images:\n- name: docker.io/a/b\n  src_build_tag: 1.10\n  tag: v1\n")
    schema = write("b.yaml", "images:\n- name: docker.io/A/b\n  src_build_tag: b1\n")
    clash = write("c.yaml", STARLINGX.replace("master-centos", "other"))
    assert problems(traps, "missing.yaml", schema, write("stx.yaml", STARLINGX), clash) == [
        'a.yaml:3:18: images[0].src_build_tag: YAML reads 1.10 as a number (1.1); quote it: "1.10"',
        "b.yaml:2:3: images[0]: missing required key 'tag' (it may be left out only when"
        " 'upstream' is given and the manifest has a 'tag_prefix')",
        "b.yaml:2:9: images[0].name: path component 'A' must be lowercase",
        "c.yaml:6:8: images[0].tag: docker.io/starlingx/k8s-cni-sriov:stx.4.0-v2.2 is already"
        " given to src_build_tag 'master-centos-stable-20191203T153530Z.0' at stx.yaml:6;"
        " a tag can point to only one image",
        "missing.yaml:1:1: cannot read the file: No such file or directory",
    ]


def test_relative_repositories_are_relative_to_the_manifest() -> None:
    here = os.getcwd()
    assert resolve_repo("sub/m.yaml", "../up/r") == os.path.join(here, "up", "r")
    assert resolve_repo("m.yaml", "/srv/r") == "/srv/r"
    assert resolve_repo("m.yaml", "~/r") == os.path.expanduser("~/r")
    assert resolve_repo("sub/m.yaml", "git@github.com:o/r.git") == "git@github.com:o/r.git"
    assert resolve_repo("sub/m.yaml", "https://x.io/r") == "https://x.io/r"
