"""Every reader of a reviewed file is bounded: nesting, what aliases repeat, hidden characters.

Nesting is refused at a stated depth with the place it is passed, never a RecursionError, for
every kind of file, in YAML's block and flow forms and in JSON, with either YAML parser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.changes.ignore import load_ignore_file
from tagmgr.changes.versions import load_versions
from tagmgr.documents import yamldoc
from tagmgr.documents.loader import load_documents
from tagmgr.errors import DocumentError, IgnoreError, Problem
from tagmgr.filerefs.find import find_references
from tagmgr.filerefs.site import FileRefs
from tagmgr.lifecycle.policyfile import load_policy
from tagmgr.lifecycle.sources import read_in_use
from tagmgr.lock import read_lock
from tagmgr.manifest import load_manifests


def _refuse_unreadable(refs: FileRefs) -> None:
    """What pin-refs does with a file it cannot read."""
    if refs.unreadable:
        raise DocumentError([Problem(u.location, u.context, u.reason) for u in refs.unreadable])


READERS: dict[str, tuple[Callable[[str], object], str]] = {
    "manifest": (lambda path: load_manifests([path]), "16 levels deep; a manifest needs 4"),
    "lock file": (lambda path: read_lock(Path(path)), "16 levels deep; a lock file needs 5"),
    "versions file": (load_versions, "16 levels deep; a versions file needs 3"),
    "policy": (load_policy, "16 levels deep; a policy needs 5"),
    "in-use file": (
        lambda path: read_in_use([path]),
        "64 levels deep; no Kubernetes, compose or Helm file goes that deep",
    ),
    "pin-refs YAML": (
        lambda path: _refuse_unreadable(find_references(path, Path(path).read_text("utf-8"))),
        "64 levels deep; no Kubernetes, compose or Helm file goes that deep",
    ),
}

NESTINGS: dict[str, Callable[[int], str]] = {
    "flow": lambda levels: "a: " + "[" * levels + "]" * levels + "\n",
    "json": lambda levels: '{"a": ' + '{"a": ' * levels + "1" + "}" * levels + "}\n",
    "block": lambda levels: "".join(f"{'  ' * level}a:\n" for level in range(levels)) + "  b\n",
}


@pytest.fixture(params=sorted(yamldoc.PARSERS))
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(yamldoc, "PARSER", request.param)
    return str(request.param)


@pytest.mark.usefixtures("parser")
@pytest.mark.parametrize(
    ("nesting", "levels"),  # 500 block levels are 250 kB already
    [("block", 500), ("flow", 500), ("flow", 100_000), ("json", 500), ("json", 100_000)],
)
@pytest.mark.parametrize("kind", sorted(READERS))
def test_deep_nesting_is_a_located_problem_at_the_stated_limit(
    tmp_path: Path, kind: str, nesting: str, levels: int
) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(NESTINGS[nesting](levels), encoding="utf-8")
    read, limit = READERS[kind]
    with pytest.raises(DocumentError) as caught:
        read(str(path))
    [problem] = caught.value.problems
    assert problem.location.file == str(path)
    assert problem.location.line > 1 if nesting == "block" else problem.location.column > 1
    assert problem.message.startswith(f"nested more than {limit}")


def test_aliases_count_at_the_size_of_what_they_repeat(tmp_path: Path) -> None:
    """A few lines that would expand to 10**9 values ("billion laughs") are refused at once."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    path = tmp_path / "compose.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load_documents(str(path))
    assert str(caught.value) == (
        f"{path}:6:10: holds more than 200000 values, counting each alias at the size of its"
        " anchor; a YAML file needs far fewer"
    )


def test_an_alias_repeats_nesting_no_deeper_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    deep = "[" * 40 + "]" * 40
    path.write_text(f"a: &a {deep}\nb: [[{'[' * 30}*a{']' * 30}]]\n", encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load_documents(str(path))
    assert str(caught.value) == (
        f"{path}:2:36: nested more than 64 levels deep; no Kubernetes, compose or Helm file goes"
        " that deep (through '*a')"
    )


def test_an_ignore_pattern_with_a_hidden_character_is_refused_where_it_stands(
    tmp_path: Path,
) -> None:
    path = tmp_path / "diff-ignore"
    path.write_text("# caches\nvar/cache/**\n  usr/lib/\u200b*.pyc\n", encoding="utf-8")
    with pytest.raises(IgnoreError) as caught:
        load_ignore_file(str(path))
    assert str(caught.value) == (
        f"{path}:3:3: contains U+200B ZERO WIDTH SPACE, an invisible format character"
        " (Unicode Cf) that a reviewer cannot see; remove it"
    )
