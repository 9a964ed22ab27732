"""``tagmgr schema`` hands out exactly the published schemas, and the table of them is complete."""

from __future__ import annotations

import json
import tomllib

import pytest

from tagmgr.cli import main
from tagmgr.commands.schemas import PACKAGE, SCHEMAS
from tests.support.paths import REPO_ROOT

PUBLISHED = sorted(path.name for path in (REPO_ROOT / "schemas").glob("*.schema.json"))


def test_every_published_schema_is_in_the_table() -> None:
    missing = [name for name in PUBLISHED if name.removesuffix(".schema.json") not in SCHEMAS]
    assert missing == [], (
        f"schemas/{missing} not printed by `tagmgr schema`: add a line to SCHEMAS in "
        "tagmgr/commands/schemas.py (and the file to package-data in pyproject.toml)"
    )


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_table_entry_is_the_published_file_with_a_stable_id(name: str) -> None:
    shipped = PACKAGE / SCHEMAS[name]
    assert shipped.resolve() == REPO_ROOT / "schemas" / f"{name}.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8"))["$id"] == f"urn:tagmgr:schema:{name}"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_is_package_data_so_a_wheel_ships_it(name: str) -> None:
    package_data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"
    ]["setuptools"]["package-data"]
    directory, file = SCHEMAS[name].rsplit("/", 1)
    assert file in package_data.get(f"tagmgr.{directory}", []), f"package-data: {SCHEMAS[name]}"


def test_schema_prints_the_file_byte_for_byte(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "manifest"]) == 0
    published = (REPO_ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8")
    assert capsys.readouterr() == (published, "")


def test_schema_without_a_name_lists_names_and_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        [name, f"urn:tagmgr:schema:{name}"] for name in SCHEMAS
    ]
    assert main(["schema", "--output", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == {
        "format": 1,
        "command": "schema",
        "schemas": [{"name": name, "id": f"urn:tagmgr:schema:{name}"} for name in SCHEMAS],
        "summary": {"schemas": len(SCHEMAS)},
        "problems": [],
    }


def test_an_unknown_schema_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["schema", "policy"])
    assert stopped.value.code == 64
    choices = ", ".join(map(repr, SCHEMAS))
    assert f"invalid choice: 'policy' (choose from {choices})" in capsys.readouterr().err
