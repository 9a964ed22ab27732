"""``versions export --format env``: one ``export NAME_VER="tag"`` line per image, for shells.

The variable is the repository's last component, upper-cased, every character other than a letter
or digit made ``_`` (``docker.io/vro/svc-api`` -> ``SVC_API_VER``). Values are tags, which hold
no character a double-quoted shell string would interpret.
"""

from __future__ import annotations

import re

from tagmgr.changes.versions import VersionsFile
from tagmgr.errors import Problem, VersionsError
from tagmgr.oci.reference import ImageReference

FORMATS = ("env",)


def variable_name(name: ImageReference) -> str:
    word = re.sub(r"[^A-Za-z0-9]", "_", name.repository.rsplit("/", 1)[-1]).upper()
    return f"{'_' if word[0].isdigit() else ''}{word}_VER"


def export_env(versions: VersionsFile, build: str | None) -> str:
    return "".join(
        f'export {variable}="{value}"\n' for _, variable, value in exported(versions, build)
    )


def exported(versions: VersionsFile, build: str | None) -> list[tuple[str, str, str]]:
    """(image, variable, version) per entry, or a ``VersionsError``: an unpinned image without
    ``build``, two images with one variable."""
    found: list[tuple[str, str, str]] = []
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for entry in versions.entries:
        variable = variable_name(entry.name)
        value = entry.version or build
        if value is None:
            problems.append(
                Problem(
                    entry.location,
                    f"{entry.field_path}.version",
                    "unpinned; give --build TAG to export the build it runs",
                )
            )
        owner = owners.setdefault(variable, entry.name.name)
        if owner != entry.name.name:
            problems.append(
                Problem(
                    entry.location,
                    f"{entry.field_path}.name",
                    f"{entry.name.name} would export {variable}, as {owner} does",
                )
            )
        found.append((entry.name.name, variable, value or ""))
    if problems:
        raise VersionsError(problems)
    return found
