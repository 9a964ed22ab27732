"""The team's shell versions file: entries read from NAME_VER lines, problems located, values
spliced with every other byte kept."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from tagmgr.changes.shellversions import load_shell_versions, write_shell_versions
from tagmgr.changes.versions import PinMode
from tagmgr.errors import TagmgrError, VersionsError

MAP = """\
# which image each variable pins
variables:
  svcbgsapi_VER: {name: docker.io/vro/svcbgsapi, local: "docker-daemon:vro/svcbgsapi:{build}"}
  svcweb_VER:
    name: docker.io/vro/svcweb
  svcdb_VER: {name: docker.io/vro/svcdb}
  svcold_VER: {name: docker.io/vro/svcold}
"""

SHELL = (
    "#!/bin/sh\r\n"
    "# versions of the services, sourced by build.sh\r\n"
    "\r\n"
    'svcbgsapi_VER="v3.1.0"   # api\r\n'
    ": ${REGISTRY:=docker.io}\r\n"
    ": ${svcold_VER:=v0.1}\r\n"
    "svcweb_VER='v2.0.1'\r\n"
    "REGISTRY_USER=ci\r\n"
    '  export svcdb_VER="v0.9.0" # pinned by hand\r\n'
    "svcold_VER="
)


def files(tmp_path: Path, shell: str = SHELL, bom: bool = False) -> tuple[str, str]:
    image_map = tmp_path / "images.yaml"
    image_map.write_text(MAP, encoding="utf-8")
    versions = tmp_path / "versions.sh"
    versions.write_bytes((codecs.BOM_UTF8 if bom else b"") + shell.encode())
    return str(versions), str(image_map)


def test_entries_pins_and_the_lines_left_alone(tmp_path: Path) -> None:
    path, image_map = files(tmp_path)
    versions = load_shell_versions(path, image_map)
    assert [
        (e.field_path, e.name.name, e.version, e.pin, e.location.line, e.local)
        for e in versions.entries
    ] == [
        ("svcbgsapi_VER", "docker.io/vro/svcbgsapi", "v3.1.0", PinMode.AUTO, 4,
         "docker-daemon:vro/svcbgsapi:{build}"),
        ("svcweb_VER", "docker.io/vro/svcweb", "v2.0.1", PinMode.AUTO, 7, None),
        ("svcdb_VER", "docker.io/vro/svcdb", "v0.9.0", PinMode.MANUAL, 9, None),
        ("svcold_VER", "docker.io/vro/svcold", None, PinMode.AUTO, 10, None),
    ]  # fmt: skip
    assert versions.entries[2].location.column == 10


@pytest.mark.parametrize("bom", [False, True])
def test_values_are_spliced_and_every_other_byte_kept(tmp_path: Path, bom: bool) -> None:
    path, image_map = files(tmp_path, bom=bom)
    versions = load_shell_versions(path, image_map)
    write_shell_versions(versions, {0: None, 1: "v2.1.0", 3: "v1.0"})
    expected = (
        SHELL.replace('svcbgsapi_VER="v3.1.0"', 'svcbgsapi_VER=""')
        .replace("svcweb_VER='v2.0.1'", "svcweb_VER='v2.1.0'")
        .replace("\r\nsvcold_VER=", "\r\nsvcold_VER=v1.0")
    )
    assert Path(path).read_bytes() == (codecs.BOM_UTF8 if bom else b"") + expected.encode()
    again = load_shell_versions(path, image_map)
    assert [e.version for e in again.entries] == [None, "v2.1.0", "v0.9.0", "v1.0"]


def test_a_file_changed_since_it_was_read_is_not_written(tmp_path: Path) -> None:
    path, image_map = files(tmp_path)
    versions = load_shell_versions(path, image_map)
    Path(path).write_text('svcweb_VER="v1"\n')
    with pytest.raises(TagmgrError) as caught:
        write_shell_versions(versions, {0: None})
    assert str(caught.value) == f"{path}: changed since it was read; nothing written"
    assert Path(path).read_text() == 'svcweb_VER="v1"\n'


def test_problems_are_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files(
        tmp_path,
        'svcweb_VER="v1"\n'
        "svcweb_VER=v2\n"
        'svcnew_VER="v1"\n'
        'svcdb_VER="$(cat db.version)"\n'
        "svcbgsapi_VER=v1 make\n"
        "svcold_VER='1 0'\n"
        "export svcold_VER\n"
        "OTHER=$(date)\n",
    )
    with pytest.raises(VersionsError) as caught:
        load_shell_versions("versions.sh", "images.yaml")
    unread = (
        "tagmgr reads a value in double or single quotes, or a plain tag, followed by nothing "
        'but a comment (NAME_VER="v1.2.3"); no $, `, \\ or a second command'
    )
    assert str(caught.value).splitlines() == [
        "versions.sh:2:1: svcweb_VER: already assigned at line 1",
        "versions.sh:3:1: svcnew_VER: not in the image map images.yaml; add it there",
        f"versions.sh:4:1: svcdb_VER: {unread}",
        f"versions.sh:5:1: svcbgsapi_VER: {unread}",
        "versions.sh:6:13: svcold_VER: tag '1 0' may contain only letters, digits, '_', '.' "
        "and '-'",
        "versions.sh:7:8: svcold_VER: a manual pin is marked on its assignment: "
        'export NAME_VER="v1.2.3"',
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "variables:\n  svcweb: {name: vro/svcweb}\n",
            "2:18: variables.svcweb.name: name must begin with a registry host such as "
            "docker.io/ or 127.0.0.1:5000/",
        ),
        (
            "variables:\n  svcweb: {name: docker.io/vro/svcweb}\n",
            "2:11: variables.svcweb: not a shell variable ending in _VER (letters, digits, '_'; "
            "no digit first)",
        ),
        (
            "variables:\n  svcweb_VER: {name: docker.io/vro/w, local: 'x:y'}\n",
            "2:46: variables.svcweb_VER.local: 'x:y' is not an image on this machine: "
            "oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF] or "
            "docker-daemon:NAME:TAG",
        ),
    ],
)
def test_the_image_map_is_checked(tmp_path: Path, text: str, message: str) -> None:
    path, image_map = files(tmp_path)
    Path(image_map).write_text(text)
    with pytest.raises(VersionsError) as caught:
        load_shell_versions(path, image_map)
    assert str(caught.value) == f"{image_map}:{message}"
