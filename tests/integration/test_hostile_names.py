"""Hostile names: ports outside 1-65535, host parts that are no address, characters a reviewer
cannot see, values too long to review. Each is refused by ``validate`` at its place, and the
client never sends a request anywhere but the host and port a registry names."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from pathlib import Path

import pytest

from tagmgr.errors import RegistryError
from tagmgr.oci.reference import IPV6_PATTERN, ImageReference, split_registry
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.messages import URL, Request, Response
from tagmgr.registry.options import check_destination
from tests.support.e2e import run_tagmgr
from tests.support.transport import MockTransport

OK_NAME = "127.0.0.1:5000/rel/r0"
INVISIBLE = "an invisible format character (Unicode Cf) that a reviewer cannot see; remove it"
CONTROL = "a control character (Unicode Cc) that a reviewer cannot see; remove it"
PORT = "is not a number from 1 to 65535"

# (field, value, the whole explanation); a src_ref is written as it is, the others escaped.
HOSTILE = [
    ("name", "127.0.0.1:70886/rel/r0", f"registry '127.0.0.1:70886': port '70886' {PORT}"),
    ("name", "127.0.0.1:0/rel/r0", f"registry '127.0.0.1:0': port '0' {PORT}"),
    ("name", "127.0.0.1:05000/rel/r0", f"registry '127.0.0.1:05000': port '05000' {PORT}"),
    ("name", "[::::::]/rel/r0", "registry '[::::::]': [::::::] is not an IPv6 address"),
    (
        "name",
        "[1:2:3:4:5:6:7:8:9]/r",
        "registry '[1:2:3:4:5:6:7:8:9]': [1:2:3:4:5:6:7:8:9] is not an IPv6 address",
    ),
    ("name", "[::1]:65536/rel/r0", f"registry '[::1]:65536': port '65536' {PORT}"),
    ("src_ref", "https://x.io/\u202ec/1", f"contains U+202E RIGHT-TO-LEFT OVERRIDE, {INVISIBLE}"),
    ("src_ref", "https://x.io/c\u200b/1", f"contains U+200B ZERO WIDTH SPACE, {INVISIBLE}"),
    ("src_ref", "https://x.io/c/1\u2060", f"contains U+2060 WORD JOINER, {INVISIBLE}"),
    ("src_ref", "\ufeffhttps://x.io/c", f"contains U+FEFF ZERO WIDTH NO-BREAK SPACE, {INVISIBLE}"),
    (
        "src_ref",
        "https://x.io/" + "c" * 500_000,
        "src_ref is 500013 characters long; at most 2048 are allowed",
    ),
    ("tag", "v1\u200d", f"contains U+200D ZERO WIDTH JOINER, {INVISIBLE}"),
    ("tag", "v1\x07", f"contains U+0007, {CONTROL}"),
    ("src_build_tag", "b\u2066", f"contains U+2066 LEFT-TO-RIGHT ISOLATE, {INVISIBLE}"),
    ("match", "v*\u2067", f"contains U+2067 RIGHT-TO-LEFT ISOLATE, {INVISIBLE}"),
    (
        "repo",
        "https://x.io/" + "r" * 2100,
        "repo is 2113 characters long; at most 2048 are allowed",
    ),
]
LINES = ("name", "src_build_tag", "tag", "src_ref")  # each entry's lines, in this order


def _entry(field: str, value: str) -> str:
    """Four lines; ``field`` holds ``value``, upstream fields on the fourth line."""
    values = {"name": OK_NAME, "src_build_tag": "b1", "tag": "v1", "src_ref": "https://x.io/c/1"}
    values[field] = value
    lines = [f"{'- ' if key == 'name' else '  '}{key}: {json.dumps(values[key])}" for key in LINES]
    if field == "src_ref":
        lines[3] = f"  src_ref: {json.dumps(value, ensure_ascii=False)}"
    if field in {"match", "repo"}:
        upstream = {"repo": "r", "commit": "abcd", "match": "v*", field: value}
        lines[3] = f"  upstream: {json.dumps(upstream)}"
    return "".join(f"{line}\n" for line in lines)


def _place(index: int, field: str, entry: str) -> str:
    """``LINE:COLUMN: path`` of ``field`` in the ``index``th entry."""
    row = LINES.index(field) if field in LINES else 3
    line = entry.splitlines()[row]
    if field in {"match", "repo"}:
        column = line.index(f'"{field}": ') + len(f'"{field}": ') + 1
        return f"{2 + 4 * index + row}:{column}: images[{index}].upstream.{field}"
    return f"{2 + 4 * index + row}:{line.index(': ') + 3}: images[{index}].{field}"


def test_every_hostile_name_is_refused_by_validate_at_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [_entry(field, value) for field, value, _ in HOSTILE]
    manifest = tmp_path / "m.yaml"
    manifest.write_text("images:\n" + "".join(entries), encoding="utf-8")
    result = run_tagmgr(capsys, "validate", manifest)
    expected = [
        f"{manifest}:{_place(index, field, entry)}: {message}"
        for index, ((field, _, message), entry) in enumerate(zip(HOSTILE, entries, strict=True))
    ]
    assert (result.code, result.out, result.err.splitlines()) == (1, "", expected)


def _ipv6_candidates() -> set[str]:
    """Every spelling with up to 9 groups around at most one '::', some ending in IPv4."""
    found = set()
    for left, right in itertools.product(range(9), repeat=2):
        groups = ["1"] * left + ["ffff"] * right
        found |= {":".join(groups), ":".join([*groups, "1.2.3.4"])}
        head, tail = ":".join(["1"] * left), ":".join(["ffff"] * right)
        found |= {f"{head}::{tail}", f"{head}::{tail}{':' if right else ''}1.2.3.4"}
    return found | {":::", "1:::2", "::1::", "::256.1.1.1", "::01.2.3.4", "12345::", "g::", "::"}


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def test_the_ipv6_grammar_is_what_ipaddress_accepts_less_a_dotted_ipv4_tail() -> None:
    """Docker's reference grammar leaves the dotted tail out on purpose; so does tagmgr."""
    pattern = re.compile(IPV6_PATTERN)
    disagree = [
        t
        for t in _ipv6_candidates()
        if bool(pattern.fullmatch(t)) != (_is_ipv6(t) and "." not in t)
    ]
    assert disagree == []


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("[::1]:5000/a", ("::1", 5000)),
        ("[::ffff:7f00:1]/a", ("::ffff:7f00:1", None)),
        ("[fe80::1:2]:65535/a", ("fe80::1:2", 65535)),
        ("localhost:1/a", ("localhost", 1)),
        ("registry.example/a", ("registry.example", None)),
    ],
)
def test_registries_split_into_the_host_and_port_they_name(
    name: str, parts: tuple[str, int | None]
) -> None:
    assert split_registry(ImageReference.parse(name).registry) == parts


@pytest.mark.parametrize("registry", ["127.0.0.1:70886", "127.0.0.1:0", "[::::::]:5000"])
def test_the_client_sends_nothing_to_a_registry_it_cannot_name_exactly(registry: str) -> None:
    """Past validation (a caller's own name, say), a port a socket would wrap is still refused."""
    sent: list[URL] = []

    def record(request: Request) -> Response:
        sent.append(request.url)
        return Response(200)

    client = RegistryClient(registry, RegistryOptions(), transport=MockTransport(record))
    with pytest.raises(RegistryError) as caught:
        client.list_tags("rel/r0")
    assert str(caught.value) == (
        f"registry {registry}: refusing to send a request: not a valid host[:port]"
    )
    assert sent == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5001/v2/", "http://127.0.0.2:5000/v2/", "http://127.0.0.1/v2/"]
)
def test_a_url_to_another_host_or_port_than_named_is_refused(url: str) -> None:
    assert check_destination("127.0.0.1:5000", URL.parse("http://127.0.0.1:5000/v2/x"))
    assert check_destination("[::1]", URL.parse("https://[::1]:443/v2/"))
    with pytest.raises(RegistryError) as caught:
        check_destination("127.0.0.1:5000", URL.parse(url))
    assert str(caught.value) == (
        f"registry 127.0.0.1:5000: refusing to send a request to {url}: not the host and port "
        "this registry names"
    )
