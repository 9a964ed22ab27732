"""Every file a doc example names exists in the repository, so every example can be run as written.

Two kinds of mention are checked, in README.md, CHANGELOG.md and docs/: any path under one of the
repository's own directories (``examples/policy.yaml``, ``tagmgr/exitcodes.py``), wherever it
stands but in a command's output; and in the commands of console examples (lines starting with
``$ ``), every argument that is a file name (``deploy.yaml``), which must then be a path from
the repository's top.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

DOCUMENTS = sorted(
    [REPO_ROOT / "README.md", REPO_ROOT / "CHANGELOG.md", *(REPO_ROOT / "docs").rglob("*.md")]
)
TOP_DIRECTORIES = ("examples", "manifests", "schemas", "tagmgr", "tests", "scripts", "docs", "ci")
REPO_PATH = re.compile(rf"(?<![\w./~$-])(?:{'|'.join(TOP_DIRECTORIES)})/[\w.*/-]*")
FILE_SUFFIXES = (".yaml", ".yml", ".json", ".lock", ".toml", ".py", ".md", ".txt")
REDIRECTIONS = {">", ">>", "<", "2>"}


def mentions(text: str) -> Iterator[tuple[int, str]]:
    """(line number, path) of each file the text names."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped.removeprefix("```").split(" ")[0]
            continue
        if fence == "console" and not stripped.startswith("$ "):
            continue  # a command's output: the files of the reader's own repository
        for match in REPO_PATH.finditer(line):
            yield number, match.group().rstrip(".")
        if fence == "console":
            yield from ((number, arg) for arg in command_files(stripped.removeprefix("$ ")))


def command_files(command: str) -> Iterator[str]:
    words = shlex.split(command, comments=True)
    for before, word in zip(["", *words], words, strict=False):
        value = word.split("=", 1)[1] if word.startswith("--") and "=" in word else word
        if before in REDIRECTIONS or value.startswith("-") or re.search(r"[:@${]", value):
            continue
        if value.endswith(FILE_SUFFIXES) and not REPO_PATH.fullmatch(value):
            yield value


def exists(path: str) -> bool:
    if "*" in path:
        return any(REPO_ROOT.glob(path))
    return (REPO_ROOT / path).exists()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_file_a_document_names_exists(document: Path) -> None:
    named = document.relative_to(REPO_ROOT)
    missing = [
        f"{named}:{number}: {path} is not in the repository"
        for number, path in mentions(document.read_text(encoding="utf-8"))
        if not exists(path)
    ]
    assert missing == [], "\n".join(missing)


def test_the_check_finds_paths_and_command_arguments() -> None:
    text = (
        "See `tagmgr/cli.py` and [x](examples/a.yaml).\n"
        "```console\n"
        "$ tagmgr expire --policy policy.json --in-use=deploy.yaml reg.io/a:b > out.json\n"
        "manifests/out.yaml:1:1: output\n```\n"
        "```yaml\nname: docker.io/a/b.yaml\n```\n"
    )
    assert list(mentions(text)) == [
        (1, "tagmgr/cli.py"),
        (1, "examples/a.yaml"),
        (3, "policy.json"),
        (3, "deploy.yaml"),
    ]
