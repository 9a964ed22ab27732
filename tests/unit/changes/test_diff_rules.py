"""Pure parts of diff: whiteouts and opaque directories, config fields, layer streams."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from typing import Any

import pytest

from tagmgr.changes.config import compare_configs
from tagmgr.changes.filesystem import LayerChanges, Tree
from tagmgr.changes.records import Kind, Record, normal_path
from tagmgr.changes.streams import LayerFormatError
from tagmgr.changes.walk import Layer, read_layer


def test_paths_are_normalised() -> None:
    assert [normal_path(p) for p in ("./usr/bin/", "/usr//bin", "usr/bin", "./", ".")] == [
        "usr/bin",
        "usr/bin",
        "usr/bin",
        "",
        "",
    ]


GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
FILE = Record(Kind.FILE, 0o644, 0, 0, "sha256:1")
DIR = Record(Kind.DIRECTORY, 0o755, 0, 0)


def layer(
    records: dict[str, Record], whiteouts: tuple[str, ...] = (), opaque: tuple[str, ...] = ()
) -> LayerChanges:
    return LayerChanges(dict(records), set(whiteouts), set(opaque))


def stacked(*layers: LayerChanges) -> Tree:
    tree = Tree()
    for one in layers:
        tree.apply(one)
    return tree


def test_whiteouts_and_opaque_directories_remove_what_lies_below() -> None:
    base = layer(
        {"etc": DIR, "etc/a": FILE, "etc/b": FILE, "opt": DIR, "opt/x": FILE, "opt/y/z": FILE}
    )
    upper = layer({"opt/new": FILE}, whiteouts=("etc/a",), opaque=("opt",))
    assert stacked(base, upper).records == {"etc": DIR, "etc/b": FILE, "opt": DIR, "opt/new": FILE}
    assert Tree.over(stacked(upper), stacked(base)) == stacked(base, upper).records


def test_a_file_over_a_directory_replaces_all_of_it() -> None:
    base = layer({"lib": DIR, "lib/a": FILE, "lib/b/c": FILE})
    assert stacked(base, layer({"lib": FILE})).records == {"lib": FILE}
    assert stacked(layer({"lib": FILE})).over(stacked(base)) == {"lib": FILE}


def test_a_hardlink_takes_its_targets_record_from_a_lower_layer() -> None:
    link = Record(Kind.HARDLINK, 0o644, 0, 0, link="bin/a")
    assert stacked(layer({"bin/a": FILE}), layer({"bin/b": link})).records["bin/b"] == FILE


def test_upper_layers_touching_the_same_paths_need_no_base() -> None:
    one = stacked(layer({"app": FILE}, whiteouts=("tmp",)))
    assert one.same_reach(stacked(layer({"app": FILE}, whiteouts=("tmp",))))
    assert not one.same_reach(stacked(layer({"app": DIR}, whiteouts=("tmp",))))
    assert not one.same_reach(stacked(layer({"app": FILE})))


def test_config_fields_by_name_and_noise_ignored() -> None:
    a: dict[str, Any] = {
        "os": "linux",
        "architecture": "amd64",
        "created": "2026-01-01T00:00:00Z",
        "history": [{"created_by": "x"}],
        "config": {"Env": ["A=1", "B=2"], "Labels": {"x": "1"}, "ExposedPorts": {"80/tcp": {}}},
    }
    b = {
        "os": "linux",
        "architecture": "amd64",
        "variant": "v2",
        "created": "2026-02-02T00:00:00Z",
        "config": {"Env": ["B=3", "A=1", "C=4"], "Cmd": ["run"], "User": ""},
    }
    assert [str(reason) for reason in compare_configs(a, b)] == [
        'config variant: (unset) -> "v2"',
        'config Cmd: (unset) -> ["run"]',
        'config Env[B]: "2" -> "3"',
        'config Env[C]: added: "4"',
        "config Labels[x]: removed",
        "config ExposedPorts[80/tcp]: removed",
    ]
    reordered = {
        **a,
        "created": "2027-01-01T00:00:00Z",
        "config": {**a["config"], "Env": ["B=2", "A=1"]},
    }
    assert compare_configs(a, reordered) == []


def layer_bytes(media_type: str, blob: bytes, diff_id: str = "") -> LayerChanges:
    return read_layer(Layer("sha256:" + "0" * 64, media_type, diff_id), iter([blob]))


def tar_of(*names: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in names:
            archive.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    return buffer.getvalue()


def test_gzip_members_in_a_row_are_one_stream_and_the_diff_id_is_checked() -> None:
    tar = tar_of("a", "b")
    half = len(tar) // 2
    blob = gzip.compress(tar[:half]) + gzip.compress(tar[half:])
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    assert sorted(layer_bytes(GZIP, blob, diff_id).records) == ["a", "b"]
    with pytest.raises(LayerFormatError) as caught:
        layer_bytes(GZIP, blob, "sha256:" + "1" * 64)
    assert str(caught.value) == (
        f"layer sha256:{'0' * 64}: uncompressed, it hashes to {diff_id}, "
        f"but the config says sha256:{'1' * 64}"
    )


@pytest.mark.parametrize(
    ("media_type", "blob", "problem"),
    [
        (GZIP, gzip.compress(tar_of("a"), mtime=0)[:-30], "the gzip stream ends early"),
        (
            GZIP,
            b"not gzip at all",
            "not gzip data: Error -3 while decompressing data: incorrect header check",
        ),
        (
            "application/vnd.oci.image.layer.v1.tar+zstd",
            b"",
            "the layer is zstd-compressed; tagmgr diff reads gzip'd and uncompressed tar layers",
        ),
    ],
)
def test_a_layer_that_cannot_be_read_says_why(media_type: str, blob: bytes, problem: str) -> None:
    with pytest.raises(LayerFormatError) as caught:
        layer_bytes(media_type, blob)
    assert str(caught.value) == f"layer sha256:{'0' * 64}: {problem}"
