"""diff end to end: images built from scratch, pushed to a real registry, compared by the CLI."""

from __future__ import annotations

import hashlib
import json
import tarfile
import tracemalloc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tagmgr.changes.diff import diff_images
from tagmgr.changes.ignore import IgnoreRules
from tagmgr.changes.verdict import DiffVerdict, ImageDiff
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryClient, RegistryOptions
from tagmgr.registry.policy import RetryPolicy
from tests.support.e2e import run_tagmgr
from tests.support.layers import (
    Entry,
    Layer,
    build_image,
    build_index,
    build_layer,
    directory,
    file,
    hardlink,
    symlink,
    whiteout,
)
from tests.support.oci import Image
from tests.support.push import push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

LATER = 1_800_000_000


def base_entries(mtime: int = 1_700_000_000) -> list[Entry]:
    return [
        directory("usr", mtime=mtime),
        directory("usr/bin", mtime=mtime),
        file("usr/bin/app", "#!/bin/sh\necho app\n", mode=0o755, mtime=mtime),
        hardlink("usr/bin/app2", "usr/bin/app"),
        symlink("usr/bin/run", "app", mtime=mtime),
        directory("etc", mtime=mtime),
        file("etc/app.conf", "port=80\n", mtime=mtime, xattrs={"user.origin": "build"}),
        file("var/log/dpkg.log", "installed app\n", mtime=mtime),
    ]


def first_layers() -> list[Layer]:
    """A ustar layer and a pax layer; the second whites out a file the first wrote."""
    entries = base_entries()
    return [
        Layer([*entries[:5], file("tmp/scratch", "x")], tar_format=tarfile.USTAR_FORMAT),
        Layer([*entries[5:], whiteout("tmp/scratch")]),
    ]


def first_build() -> Image:
    return build_image(first_layers())


def noisy_rebuild(**changes: object) -> Image:
    """The same filesystem: new timestamps (PAX time records too), another order, another tar
    format, ./ names, a mode with file-type bits, one uncompressed layer, a new created date."""
    entries = base_entries(LATER)
    entries = [*entries[5:], entries[4], *entries[:4]]
    entries[3] = Entry("usr/bin/run", kind=tarfile.SYMTYPE, link="app", mode=0o120777)
    return build_image(
        [Layer(entries, gzip_level=None, name_prefix="./", pax_times=True)],
        created="2026-06-01T12:00:00Z",
        **changes,  # type: ignore[arg-type]
    )


def short(text: str) -> str:
    """A line's content digest as the text report shortens it."""
    digest = hashlib.sha256(text.encode() + b"\n").hexdigest()
    return f"sha256:{digest[:12]}"


def pushed(registry: RegistryServer, repo: str, **images: Image) -> dict[str, str]:
    for tag, image in images.items():
        push(registry.address, repo, tag, image)
    return {tag: f"{registry.address}/{repo}:{tag}" for tag in images}


def test_a_rebuild_differing_only_in_noise_is_equivalent(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = pushed(registry, repo, a=first_build(), b=noisy_rebuild())
    result = run_tagmgr(capsys, "diff", refs["a"], refs["b"])
    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    assert lines[0] == f"equivalent: {refs['a']} -> {refs['b']}"
    assert lines[1].startswith("  linux/amd64: equivalent (sha256:")
    assert len(lines) == 2
    same = run_tagmgr(capsys, "diff", refs["a"], refs["a"], "--output", "json")
    assert same.code == 0
    assert same.json()["verdict"] == "identical"
    assert same.json()["platforms"][0]["verdict"] == "identical"


def test_a_changed_file_and_a_changed_variable_are_changes_with_reasons(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    changed = [*base_entries()[:5], file("etc/app.conf", "port=81\n", mode=0o600)]
    rebuild = build_image([Layer(changed)], env=("PATH=/usr/local/bin",))
    refs = pushed(registry, repo, a=first_build(), b=rebuild)
    result = run_tagmgr(capsys, "diff", refs["a"], refs["b"])
    assert result.code == 2, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"changed: {refs['a']} -> {refs['b']}"
    assert lines[2:] == [
        '    config Env[PATH]: "/usr/bin" -> "/usr/local/bin"',
        "    file-removed etc: directory",
        f"    file-modified etc/app.conf: mode 0644 -> 0600, content {short('port=80')} -> "
        f"{short('port=81')}, xattrs {{user.origin='build'}} -> {{}}",
        "    file-removed var/log/dpkg.log: file",
    ]
    ignore = tmp_path / "diff-ignore"
    ignore.write_text("var/log/**\netc\n", encoding="utf-8")
    ignored = run_tagmgr(
        capsys, "diff", refs["a"], refs["b"], "--ignore", ignore, "--output", "json"
    )
    assert ignored.code == 2
    reasons = ignored.json()["platforms"][0]["reasons"]
    assert [(r["kind"], r["subject"]) for r in reasons] == [
        ("config", "Env[PATH]"),
        ("file-modified", "etc/app.conf"),
    ]


def test_an_ignored_path_is_no_change(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entries = base_entries()
    rebuild = build_image(
        [
            Layer(entries[:5]),
            Layer(
                [
                    *entries[5:7],
                    file("var/log/dpkg.log", "other\n"),
                    file("usr/lib/__pycache__/m.pyc", "x"),
                ]
            ),
        ]
    )
    refs = pushed(registry, repo, a=first_build(), b=rebuild)
    assert run_tagmgr(capsys, "diff", refs["a"], refs["b"]).code == 2
    ignore = tmp_path / "diff-ignore"
    ignore.write_text("# build logs\nvar/log/**\n**/__pycache__/**\n", encoding="utf-8")
    result = run_tagmgr(capsys, "diff", refs["a"], refs["b"], "--ignore", ignore)
    assert result.code == 0, result.out
    assert result.out.startswith("equivalent: ")


def test_an_added_platform_is_a_change(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    amd64, arm64 = first_build(), build_image([Layer(base_entries())], platform=("linux", "arm64"))
    one = build_index({("linux", "amd64"): amd64})
    two = build_index({("linux", "amd64"): amd64, ("linux", "arm64"): arm64})
    refs = pushed(registry, repo, a=one, b=two)
    result = run_tagmgr(capsys, "diff", refs["a"], refs["b"], "--output", "json")
    assert result.code == 2
    document = result.json()
    assert (document["command"], document["verdict"]) == ("diff", "changed")
    assert document["platforms"] == [
        {
            "platform": "linux/amd64",
            "digest_a": amd64.digest,
            "digest_b": amd64.digest,
            "verdict": "identical",
            "reasons": [],
            "ignored": [],
        },
        {
            "platform": "linux/arm64",
            "digest_a": None,
            "digest_b": arm64.digest,
            "verdict": "changed",
            "reasons": [{"kind": "platform-added", "subject": "linux/arm64", "detail": ""}],
            "ignored": [],
        },
    ]


def test_a_missing_image_is_an_error(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = pushed(registry, repo, a=first_build())
    result = run_tagmgr(capsys, "diff", refs["a"], f"{registry.address}/{repo}:nope")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"tagmgr: error: {registry.address}/{repo}:nope does not exist\n"


@pytest.fixture
def blob_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The digest of every blob the registry client opens (a spy: the reads still happen)."""
    reads: list[str] = []
    original = RegistryClient.open_blob

    def spy(
        self: RegistryClient, repository: str, digest: str
    ) -> AbstractContextManager[Iterator[bytes]]:
        reads.append(digest)
        return original(self, repository, digest)

    monkeypatch.setattr(RegistryClient, "open_blob", spy)
    return reads


def layer_digests(image: Image) -> list[str]:
    return [str(layer["digest"]) for layer in json.loads(image.manifest_bytes)["layers"]]


def config_digest(image: Image) -> str:
    return str(json.loads(image.manifest_bytes)["config"]["digest"])


def test_a_shared_base_is_not_read_when_the_upper_layers_settle_it(
    registry: RegistryServer, repo: str, blob_reads: list[str]
) -> None:
    base = Layer(base_entries()[:5])
    a = build_image([base, Layer([file("app/main.py", "print(1)\n", mtime=1)])])
    b = build_image([base, Layer([file("app/main.py", "print(1)\n", mtime=2)], gzip_level=9)])
    refs = pushed(registry, repo, a=a, b=b)
    assert compare(refs["a"], refs["b"]).verdict is DiffVerdict.EQUIVALENT
    (base_a, upper_a), (base_b, upper_b) = layer_digests(a), layer_digests(b)
    assert base_a == base_b
    assert sorted(blob_reads) == sorted([config_digest(a), config_digest(b), upper_a, upper_b])


def test_a_shared_base_is_read_once_when_it_decides(
    registry: RegistryServer, repo: str, blob_reads: list[str]
) -> None:
    base = Layer(base_entries()[:5])
    a = build_image([base, Layer([file("app/main.py", "print(1)\n")])])
    b = build_image([base, Layer([file("app/main.py", "print(1)\n"), base_entries()[2]])])
    refs = pushed(registry, repo, a=a, b=b)
    assert (
        compare(refs["a"], refs["b"]).verdict is DiffVerdict.EQUIVALENT
    )  # usr/bin/app rewritten alike
    assert blob_reads.count(layer_digests(a)[0]) == 1
    assert len(blob_reads) == 5


def test_a_layer_holding_a_256_mib_file_compares_in_bounded_memory(
    registry: RegistryServer, repo: str, blob_reads: list[str]
) -> None:
    """The big layer is a shared base that the upper layers do not settle: read once, streamed."""
    big = build_layer(Layer([Entry("data/blob.bin", zeros=256 * 1024 * 1024)], gzip_level=1))
    a = build_image([big])
    b = build_image([big, Layer([file("data/extra.txt", "extra")])])
    refs = pushed(registry, repo, a=a, b=b)
    tracemalloc.start()
    try:
        result = compare(refs["a"], refs["b"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [str(reason) for reason in result.reasons] == ["file-added data/extra.txt: file"]
    assert blob_reads.count(layer_digests(a)[0]) == 1
    assert peak < 6 * 1024 * 1024, f"peak {peak} bytes"
    print(f"peak traced memory: {peak} bytes")


def compare(a: str, b: str) -> ImageDiff:
    with Registries(RegistryOptions(retry=RetryPolicy(request_timeout=30.0))) as registries:
        return diff_images(
            registries, ImageReference.parse(a), ImageReference.parse(b), IgnoreRules()
        )


def test_build_stamps_are_changes_unless_the_ignore_file_names_them(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two builds of one content, stamped as docker/metadata-action stamps them."""

    def stamped(created: str, revision: str) -> Image:
        labels = {
            "org.opencontainers.image.created": created,
            "org.opencontainers.image.revision": revision,
            "org.opencontainers.image.title": "app",
        }
        return build_image(first_layers(), labels=labels, created=created)

    refs = pushed(
        registry,
        repo,
        a=stamped("2026-12-01T10:00:00Z", "4d1c1f7"),
        b=stamped("2026-12-07T09:00:00Z", "e4e5443"),
    )
    plain = run_tagmgr(capsys, "diff", refs["a"], refs["b"])
    assert plain.code == 2, plain.err
    assert plain.out.splitlines()[2:] == [
        '    config Labels[org.opencontainers.image.created]: "2026-12-01T10:00:00Z" -> '
        '"2026-12-07T09:00:00Z"',
        '    config Labels[org.opencontainers.image.revision]: "4d1c1f7" -> "e4e5443"',
    ]
    ignore = tmp_path / "diff-ignore"
    ignore.write_text("label:org.opencontainers.image.created\nlabel:*.revision\n")
    ignored = run_tagmgr(capsys, "diff", refs["a"], refs["b"], "--ignore", ignore)
    assert ignored.code == 0, ignored.err
    assert ignored.out.splitlines()[0] == f"equivalent: {refs['a']} -> {refs['b']}"
    assert ignored.out.splitlines()[2:] == [
        "    ignored by label:org.opencontainers.image.created: config "
        'Labels[org.opencontainers.image.created]: "2026-12-01T10:00:00Z" -> '
        '"2026-12-07T09:00:00Z"',
        "    ignored by label:*.revision: config "
        'Labels[org.opencontainers.image.revision]: "4d1c1f7" -> "e4e5443"',
    ]
    document = run_tagmgr(
        capsys, "diff", refs["a"], refs["b"], "--ignore", ignore, "--output", "json"
    ).json()
    (platform,) = document["platforms"]
    assert (document["verdict"], platform["reasons"]) == ("equivalent", [])
    assert [(r["subject"], r["rule"]) for r in platform["ignored"]] == [
        ("Labels[org.opencontainers.image.created]", "label:org.opencontainers.image.created"),
        ("Labels[org.opencontainers.image.revision]", "label:*.revision"),
    ]
