"""Reading manifest files: valid manifests, the model built from them, and every YAML trap.

Each test writes real files in a temporary directory (the working directory, so messages name
files the way a user typed them) and asserts the whole rendered problem lines. Every test runs
with PyYAML's pure-Python parser and with libyaml's; where their words differ, both are given.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tagmgr.documents import yamldoc
from tagmgr.errors import Location, ManifestError
from tagmgr.manifest import MAX_MANIFEST_BYTES, Upstream, load_manifests
from tagmgr.manifest.loader import MANIFEST
from tests.support.gate import running_in_ci

STARLINGX = """\
images:
- name: docker.io/starlingx/k8s-cni-sriov
  src_build_tag: master-centos-stable-20191203T153530Z.0
  src_ref: https://opendev.org/starlingx/integ/commit/dac417bd31ed36d455e94db4aabe5916367654d4
  # Tag determined based on release tag associated with upstream commit
  tag: stx.4.0-v2.2
- name: docker.io/starlingx/intel-gpu-plugin
  src_build_tag: master-distroless-stable-20191203T153530Z.0
  src_ref: https://opendev.org/starlingx/integ/commit/5f72ddb26a38d41fef919060585daaafae677433
  tag: stx.4.0-v0.11.0-103-g4f28657
"""

DESCRIBED = """\
tag_prefix: "stx.4.0-"          # optional manifest-level default release prefix
images:
- name: docker.io/starlingx/intel-gpu-plugin
  src_build_tag: master-distroless-stable-20191203T153530Z.0
  src_ref: https://opendev.org/starlingx/integ/commit/5f72ddb26a38d41fef919060585daaafae677433
  upstream: {repo: https://github.com/intel/intel-device-plugins-for-kubernetes, commit: 4f28657}
  tag: "stx.4.0-{describe}"
- name: docker.io/starlingx/other
  src_build_tag: b1
  upstream: {repo: ../upstreams/other, commit: 0123456789abcdef0123456789abcdef01234567, match: "v*"}
  # no tag: tag_prefix + "{describe}" applies
"""  # noqa: E501 - the manifest exactly as users write it

ENTRY = "images:\n- name: docker.io/a/b\n  src_build_tag: b1\n"
HANG_GUARD_SECONDS = 15  # for hostile input: far above any real parse, far below a hang
"""A valid start: line 2 holds name, line 3 src_build_tag, so a line added below is line 4."""


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True, params=["pure", "libyaml"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with this YAML parser; libyaml is in PyPI's PyYAML wheels, so CI needs it."""
    name: str = request.param
    if name not in yamldoc.PARSERS:
        reason = "PyYAML was built without libyaml"
        if running_in_ci():
            pytest.fail(f"{reason}; CI is set, so this fails instead of skipping", pytrace=False)
        pytest.skip(reason)
    monkeypatch.setattr(yamldoc, "PARSER", name)
    return name


def by_parser(pure: str, libyaml: str) -> dict[str, str]:
    """An expected message where the two parsers word a syntax error differently."""
    return {"pure": pure, "libyaml": libyaml}


def write(name: str, text: str | bytes) -> str:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return name


def problems(*paths: str) -> list[str]:
    """The rendered lines of the ManifestError that loading ``paths`` must raise."""
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths)
    lines = str(caught.value).splitlines()
    assert lines == [str(problem) for problem in caught.value.problems]
    return lines


def test_starlingx_manifest_loads_with_locations() -> None:
    [manifest] = load_manifests([write("stx.yaml", STARLINGX)])
    first, second = manifest.entries
    assert manifest.path == "stx.yaml"
    assert manifest.tag_prefix is None
    assert (first.name, first.src_build_tag, first.tag) == (
        "docker.io/starlingx/k8s-cni-sriov",
        "master-centos-stable-20191203T153530Z.0",
        "stx.4.0-v2.2",
    )
    assert first.src_ref == (
        "https://opendev.org/starlingx/integ/commit/dac417bd31ed36d455e94db4aabe5916367654d4"
    )
    assert first.upstream is None
    assert first.field_path == "images[0]"
    assert first.location() == Location("stx.yaml", 2, 3)
    assert first.location("tag") == Location("stx.yaml", 6, 8)
    assert first.location("upstream") == Location("stx.yaml", 2, 3)
    assert (second.field_path, second.tag) == ("images[1]", "stx.4.0-v0.11.0-103-g4f28657")
    assert second.location("name") == Location("stx.yaml", 7, 9)


def test_described_manifest_loads_with_upstreams() -> None:
    [manifest] = load_manifests([write("described.yaml", DESCRIBED)])
    first, second = manifest.entries
    assert manifest.tag_prefix == "stx.4.0-"
    assert manifest.locations["tag_prefix"] == Location("described.yaml", 1, 13)
    assert first.tag == "stx.4.0-{describe}"
    assert first.upstream == Upstream(
        "https://github.com/intel/intel-device-plugins-for-kubernetes", "4f28657"
    )
    assert first.location("upstream.commit") == Location("described.yaml", 6, 90)
    assert second.tag is None
    assert second.src_ref is None
    assert second.upstream == Upstream(
        "../upstreams/other", "0123456789abcdef0123456789abcdef01234567", "v*"
    )
    assert second.location("upstream.match") == Location("described.yaml", 10, 97)


def test_empty_image_list_byte_order_mark_and_several_files() -> None:
    empty = write("empty.yaml", b"\xef\xbb\xbfimages: []\n")
    manifests = load_manifests([empty, write("stx.yaml", STARLINGX)])
    assert [(m.path, len(m.entries)) for m in manifests] == [("empty.yaml", 0), ("stx.yaml", 2)]


@pytest.mark.parametrize(
    "images",
    ["images:\n# - name: docker.io/a/b\n#   src_build_tag: b1\n", "images: ~\n", "images: null\n"],
)
def test_images_empty_or_null_means_no_entries(images: str) -> None:
    [manifest] = load_manifests([write("new-release.yaml", f'tag_prefix: "stx.5.0-"\n{images}')])
    assert (manifest.entries, manifest.tag_prefix) == ((), "stx.5.0-")


def test_null_is_allowed_for_images_only() -> None:
    text = "tag_prefix:\nimages:\n- name: docker.io/a/b\n  src_build_tag: ~\n  tag: v1\n"
    assert problems(write("m.yaml", text), write("n.yaml", "images: 'null'\n")) == [
        "m.yaml:1:12: tag_prefix: empty value: YAML reads it as null; write a value or remove it",
        'm.yaml:4:18: images[0].src_build_tag: YAML reads ~ as null; quote it: "~"',
        "n.yaml:1:9: images: must be a list or empty, not text",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "m.yaml:1:1: the file is empty; a manifest is a mapping with an 'images:' list"),
        (
            b"# nothing\n---\n",
            "m.yaml:1:1: the file is empty; a manifest is a mapping with an 'images:' list",
        ),
        (
            b"- a\n",
            "m.yaml:1:1: the top level must be a mapping with an 'images:' list, not a list",
        ),
        (
            b"images: [\n",
            by_parser(
                "m.yaml:2:1: YAML syntax error: expected the node content,"
                " but found '<stream end>'",
                "m.yaml:2:1: YAML syntax error: did not find expected node content",
            ),
        ),
        (
            b"images:\n- name: 'x\n",
            "m.yaml:3:1: YAML syntax error: found unexpected end of stream"
            " (while scanning a quoted scalar at line 2, column 9)",
        ),
        (
            b"images:\n\t- name: x\n",
            "m.yaml:2:1: YAML syntax error: a tab cannot start a token here;"
            " indent with spaces, not tabs",
        ),
        (
            b"images: []\nx\x00y\n",
            "m.yaml:2:2: the file contains a NUL byte; it looks binary, not like YAML text",
        ),
        (b"images: [a\x07]\n", "m.yaml:1:11: control character U+0007 is not allowed in YAML"),
        (
            b"images:\n- n\xc3\xa4me: \xff\n",
            "m.yaml:2:9: byte 0xff is not UTF-8; a manifest is UTF-8 text",
        ),
        (
            "images: []\n".encode("utf-16"),
            "m.yaml:1:1: byte 0xff is not UTF-8; a manifest is UTF-8 text",
        ),
        (
            b"images: []\n---\nimages: []\n",
            "m.yaml:2:1: a manifest holds one YAML document, and a second one starts here;"
            " remove this '---' or split the file",
        ),
        (
            b"? [a]\n: b\n",
            "m.yaml:1:3: a mapping key must be plain text, not an alias, list or mapping",
        ),
        (
            b"images: " + b"[" * 17,
            "m.yaml:1:24: nested more than 16 levels deep; a manifest needs 4",
        ),
    ],
)
def test_unreadable_yaml_gives_one_located_problem(
    content: bytes, expected: str | dict[str, str], parser: str
) -> None:
    wanted = expected if isinstance(expected, str) else expected[parser]
    assert problems(write("m.yaml", content)) == [wanted]


def test_missing_file_and_directory_are_named() -> None:
    os.mkdir("adir")
    assert problems("missing.yaml", "adir") == [
        "adir:1:1: is a directory; give a manifest file",
        "missing.yaml:1:1: cannot read the file: No such file or directory",
    ]


def test_size_limit_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tagmgr.manifest.loader.MANIFEST", MANIFEST._replace(max_bytes=20))
    assert load_manifests([write("max.yaml", "images: []\n#" + "#" * 8)])[0].entries == ()
    assert problems(write("big.yaml", "images: []\n#" + "#" * 9)) == [
        "big.yaml:1:1: the file is larger than 20 bytes; split the manifest"
    ]


LONG_NUMBER = "1" + "2" * 50


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.10", 'YAML reads 1.10 as a number (1.1); quote it: "1.10"'),
        ("1:20", 'YAML reads 1:20 as a number (80); quote it: "1:20"'),
        ("0755", 'YAML reads 0755 as a number (493); quote it: "0755"'),
        ("0x1F", 'YAML reads 0x1F as a number (31); quote it: "0x1F"'),
        ("1_000", 'YAML reads 1_000 as a number (1000); quote it: "1_000"'),
        (".inf", 'YAML reads .inf as a number (inf); quote it: ".inf"'),
        (".NaN", 'YAML reads .NaN as a number (nan); quote it: ".NaN"'),
        ("1e3", 'YAML 1.2 reads 1e3 as a number (1000.0); quote it: "1e3"'),
        ("1.0e3", 'YAML 1.2 reads 1.0e3 as a number (1000.0); quote it: "1.0e3"'),
        ("0o17", 'YAML 1.2 reads 0o17 as a number (15); quote it: "0o17"'),
        ("yes", 'YAML reads yes as a boolean (true); quote it: "yes"'),
        ("Off", 'YAML reads Off as a boolean (false); quote it: "Off"'),
        ("TRUE", 'YAML reads TRUE as a boolean (true); quote it: "TRUE"'),
        ("n", 'some YAML 1.1 parsers read n as a boolean (false); quote it: "n"'),
        ("~", 'YAML reads ~ as null; quote it: "~"'),
        ("null", 'YAML reads null as null; quote it: "null"'),
        ("2019-12-03", 'YAML reads 2019-12-03 as a date (2019-12-03); quote it: "2019-12-03"'),
        (
            "2019-12-03t15:35:30Z",
            "YAML reads 2019-12-03t15:35:30Z as a date (2019-12-03T15:35:30+00:00);"
            ' quote it: "2019-12-03t15:35:30Z"',
        ),
        (
            LONG_NUMBER,
            f'YAML reads {LONG_NUMBER[:40]}... as a number; quote it: "{LONG_NUMBER[:40]}..."',
        ),
    ],
)
def test_unquoted_values_yaml_would_not_read_as_text(value: str, expected: str) -> None:
    assert problems(write("m.yaml", f"{ENTRY}  tag: {value}\n")) == [
        f"m.yaml:4:8: images[0].tag: {expected}"
    ]


def test_empty_values_and_keys_are_null_to_yaml() -> None:
    text = "images:\n- name: docker.io/a/b\n  src_build_tag:\n  tag: v1\n  ?\n  : x\n-\n"
    assert problems(write("m.yaml", text)) == [
        "m.yaml:3:17: images[0].src_build_tag: empty value: YAML reads it as null;"
        " write a value or remove it",
        "m.yaml:5:4: images[0]['']: empty key: YAML reads it as null; write a key or remove it",
        "m.yaml:7:2: images[1]: empty value: YAML reads it as null; write a value or remove it",
    ]


def test_quoted_and_block_values_are_text() -> None:
    text = ENTRY.replace("b1", "'1.10'") + '  tag: "yes"\n  src_ref: >-\n    1e3\n'
    [manifest] = load_manifests([write("m.yaml", text)])
    entry = manifest.entries[0]
    assert (entry.src_build_tag, entry.tag, entry.src_ref) == ("1.10", "yes", "1e3")


def test_keys_duplicates_anchors_aliases_and_tags() -> None:
    text = (
        "images:\n"
        "- name: docker.io/a/b\n"  # 2
        "  src_build_tag: !!str b1\n"  # 3
        "  tag: &t v1\n"  # 4
        "  yes: v2\n"  # 5
        "  name: docker.io/a/c\n"  # 6
        "- name: !!python/object:os.system x\n"  # 7
        "  src_build_tag: *t\n"  # 8
        "  tag: !foo v1\n"  # 9
        "- !!map {<<: x}\n"  # 10
    )
    assert problems(write("m.yaml", text)) == [
        "m.yaml:3:18: images[0].src_build_tag: YAML tag '!!str' is not allowed; write plain values",
        "m.yaml:4:8: images[0].tag: YAML anchor '&t' is not allowed; write each value out",
        'm.yaml:5:3: images[0].yes: YAML reads the key yes as a boolean (true); quote it: "yes"',
        "m.yaml:6:3: images[0].name: duplicate key 'name'; the first one is at line 2",
        "m.yaml:7:9: images[1].name: YAML tag '!!python/object:os.system' is not allowed;"
        " write plain values",
        "m.yaml:8:18: images[1].src_build_tag: YAML alias '*t' is not allowed; write the value out",
        "m.yaml:9:8: images[1].tag: YAML tag '!foo' is not allowed; write plain values",
        "m.yaml:10:3: images[2]: YAML tag '!!map' is not allowed; write plain values",
        "m.yaml:10:10: images[2]['<<']: YAML reads the key << as a merge key; quote it: \"<<\"",
    ]


def test_block_scalar_keeps_its_final_line_break_and_is_refused() -> None:
    text = ENTRY.replace("b1", "|\n    b1") + "  tag: v1\n"
    assert problems(write("m.yaml", text)) == [
        "m.yaml:3:18: images[0].src_build_tag: contains U+000A LINE FEED, a control character"
        " (Unicode Cc) that a reviewer cannot see; remove it"
    ]


HOSTILE_BYTES = 1024 * 1024
"""Below the size cap: enough to show nesting is refused early, and quick with either parser."""

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("content", "first_line", "count"),
    [
        pytest.param(LAUGHS, "m.yaml:1:1: missing required key 'images'", 91, id="billion-laughs"),
        pytest.param(
            "[" * HOSTILE_BYTES,
            by_parser(  # libyaml's scanner looks ahead into the brackets, to its own limit
                "m.yaml:1:17: nested more than 16 levels deep; a manifest needs 4",
                "m.yaml:1:1001: nested more than 16 levels deep; a manifest needs 4",
            ),
            1,
            id="1MiB-deep",
        ),
        pytest.param(
            "{a: " * (HOSTILE_BYTES // 4),
            "m.yaml:1:65: nested more than 16 levels deep; a manifest needs 4",
            1,
            id="1MiB-deep-mapping",
        ),
        pytest.param(
            "#" * (5 * MAX_MANIFEST_BYTES),
            "m.yaml:1:1: the file is larger than 4194304 bytes; split the manifest",
            1,
            id="5-times-the-cap",
        ),
        pytest.param(
            bytes(reversed(range(256))) * 16,
            "m.yaml:1:1: byte 0xff is not UTF-8; a manifest is UTF-8 text",
            1,
            id="binary-garbage",
        ),
    ],
)
def test_hostile_input_fails_fast_with_a_manifest_error(
    content: str | bytes, first_line: str | dict[str, str], count: int, parser: str
) -> None:
    path = write("m.yaml", content)
    started = time.perf_counter()
    lines = problems(path)
    assert time.perf_counter() - started < HANG_GUARD_SECONDS
    wanted = first_line if isinstance(first_line, str) else first_line[parser]
    assert (lines[0], len(lines)) == (wanted, count)
