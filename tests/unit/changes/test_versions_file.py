"""The versions file without a registry: located problems, byte-range edits, export lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tagmgr.changes.export import export_env
from tagmgr.changes.versions import NOUN, SCHEMA_PATH, PinMode, load_versions
from tagmgr.cli import main
from tagmgr.documents.schema import load_schema
from tagmgr.errors import VersionsError
from tagmgr.manifest.write import write_values
from tests.support.paths import REPO_ROOT


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "versions.yaml"
    path.write_bytes(text.encode())
    return path


def test_entries_with_defaults_and_nulls(tmp_path: Path) -> None:
    path = written(
        tmp_path,
        "images:\n- name: docker.io/vro/a\n- name: docker.io/vro/b\n  version: null\n"
        "- name: docker.io/vro/c\n  version: ~\n- name: docker.io/vro/d\n  version:\n"
        "- {name: docker.io/vro/e, version: v1, pin: manual}\n",
    )
    entries = load_versions(str(path)).entries
    assert [(e.name.name, e.version, e.pin) for e in entries] == [
        ("docker.io/vro/a", None, PinMode.AUTO),
        ("docker.io/vro/b", None, PinMode.AUTO),
        ("docker.io/vro/c", None, PinMode.AUTO),
        ("docker.io/vro/d", None, PinMode.AUTO),
        ("docker.io/vro/e", "v1", PinMode.MANUAL),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "images:\n- name: docker.io/vro/a\n  version: 1.10\n",
            "versions.yaml:3:12: images[0].version: "
            'YAML reads 1.10 as a number (1.1); quote it: "1.10"',
        ),
        (
            'images:\n- name: docker.io/vro/a\n  version: "bad tag"\n  pin: sometimes\n  tag: x\n',
            "versions.yaml:3:12: images[0].version: tag 'bad tag' may contain only letters, "
            "digits, '_', '.' and '-'\n"
            "versions.yaml:4:8: images[0].pin: pin 'sometimes' is neither 'auto' nor 'manual'\n"
            "versions.yaml:5:3: images[0].tag: unknown key 'tag'; "
            "expected one of: name, version, pin, local",
        ),
        (
            "images:\n- name: docker.io/vro/a\n- name: docker.io/vro/a\n  pin: null\n",
            'versions.yaml:4:8: images[1].pin: YAML reads null as null; quote it: "null"',
        ),
        (
            "images:\n- name: docker.io/vro/a\n- name: docker.io/vro/a\n",
            "versions.yaml:3:9: images[1].name: docker.io/vro/a is already listed at line 2",
        ),
        (
            "",
            f"versions.yaml:1:1: the file is empty; a {NOUN} is a mapping with an 'images:' list",
        ),
        (
            "images:\n- name: docker.io/vro/a\n  local: docker-daemon:vro/a\n"
            "- name: docker.io/vro/b\n  local: dir:{build}\n",
            "versions.yaml:3:10: images[0].local: 'docker-daemon:vro/a': docker-daemon: give a "
            "tag, a digest or an image ID (docker-daemon:NAME:TAG, docker-daemon:NAME@sha256:..., "
            "docker-daemon:sha256:...)\n"
            "versions.yaml:5:10: images[1].local: 'dir:{build}' is not an image on this machine: "
            "oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF] or "
            "docker-daemon:NAME:TAG",
        ),
    ],
)
def test_problems_are_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    written(tmp_path, text)
    with pytest.raises(VersionsError) as caught:
        load_versions("versions.yaml")
    assert str(caught.value) == message


ORIGINAL = (
    "# versions, reviewed\r\n"
    "images:\r\n"
    "- name: docker.io/vro/a   # api\r\n"
    "  version: 'v1'\r\n"
    "- name: docker.io/vro/b\r\n"
    "  pin: auto\r\n"
    "- {name: docker.io/vro/c}\r\n"
    "- name: docker.io/vro/d\r\n"
    "  version:\r\n"
    "- name: docker.io/vro/e\r\n"
    "  version: v9   # kept\r\n"
)


def test_values_are_spliced_and_every_other_byte_kept(tmp_path: Path) -> None:
    path = written(tmp_path, ORIGINAL)
    loaded = {e.index: e.name for e in load_versions(str(path)).entries}
    changed = write_values(
        path, "version", {0: None, 1: "v2", 2: "1.10", 3: "v3", 4: "v9"}, loaded, after="name"
    )
    assert changed == [0, 1, 2, 3]
    assert path.read_bytes().decode() == (
        "# versions, reviewed\r\n"
        "images:\r\n"
        "- name: docker.io/vro/a   # api\r\n"
        "  version: null\r\n"
        "- name: docker.io/vro/b\r\n"
        "  version: v2\r\n"
        "  pin: auto\r\n"
        '- {name: docker.io/vro/c, version: "1.10"}\r\n'
        "- name: docker.io/vro/d\r\n"
        "  version: v3\r\n"
        "- name: docker.io/vro/e\r\n"
        "  version: v9   # kept\r\n"
    )
    assert [e.version for e in load_versions(str(path)).entries] == [None, "v2", "1.10", "v3", "v9"]


def test_export_lines_and_their_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = written(
        tmp_path,
        "images:\n- name: docker.io/vro/svc-api\n  version: v1.2.3\n- name: docker.io/vro/9web\n",
    )
    versions = load_versions(str(path))
    assert export_env(versions, "b42") == 'export SVC_API_VER="v1.2.3"\nexport _9WEB_VER="b42"\n'
    main(["versions", "export", str(path), "--format", "env", "--build", "b42", "--output", "json"])
    assert json.loads(capsys.readouterr().out)["images"] == [
        {"name": "docker.io/vro/svc-api", "variable": "SVC_API_VER", "version": "v1.2.3"},
        {"name": "docker.io/vro/9web", "variable": "_9WEB_VER", "version": "b42"},
    ]
    with pytest.raises(VersionsError) as caught:
        export_env(versions, None)
    assert str(caught.value) == (
        f"{path}:4:3: images[1].version: unpinned; give --build TAG to export the build it runs"
    )
    clash = written(tmp_path, "images:\n- name: docker.io/vro/api\n- name: quay.io/vro/api\n")
    with pytest.raises(VersionsError) as caught:
        export_env(load_versions(str(clash)), "b1")
    assert str(caught.value) == (
        f"{clash}:3:3: images[1].name: "
        "quay.io/vro/api would export API_VER, as docker.io/vro/api does"
    )


def test_the_schema_is_a_valid_schema_and_published_beside_the_manifests() -> None:
    Draft202012Validator.check_schema(load_schema(SCHEMA_PATH))
    published = REPO_ROOT / "schemas" / "versions.schema.json"
    assert SCHEMA_PATH.resolve() == published.resolve()
