"""The error tree drawn in tagmgr/errors.py is the real one: every ``TagmgrError`` subclass that
tagmgr defines, under its real parent, and nothing else."""

from __future__ import annotations

import importlib
import pkgutil
import re

import tagmgr
from tagmgr import errors

_BRANCH = re.compile(r"    ((?:│   |    )*)[├└]── (\w+)")


def real_tree() -> dict[str, str]:
    """Class name -> parent name, for every subclass any tagmgr module defines."""
    for module in pkgutil.walk_packages(tagmgr.__path__, "tagmgr."):
        if not module.name.endswith("__main__"):  # which would run the command line
            importlib.import_module(module.name)
    found: dict[str, str] = {}

    def walk(parent: type[errors.TagmgrError]) -> None:
        for child in parent.__subclasses__():
            if child.__module__.startswith("tagmgr."):
                found[child.__name__] = parent.__name__
                walk(child)

    walk(errors.TagmgrError)
    return found


def drawn_tree() -> dict[str, str]:
    """Class name -> parent name, as the module docstring draws them."""
    found: dict[str, str] = {}
    parents = ["TagmgrError"]
    for line in (errors.__doc__ or "").splitlines():
        branch = _BRANCH.match(line)
        if branch:
            depth = len(branch.group(1)) // 4
            del parents[depth + 1 :]
            found[branch.group(2)] = parents[depth]
            parents.append(branch.group(2))
    return found


def test_the_drawn_error_tree_is_the_real_one() -> None:
    assert drawn_tree() == real_tree()


def test_every_kind_of_reviewed_file_has_its_own_document_error() -> None:
    kinds = {name for name, parent in real_tree().items() if parent == "DocumentError"}
    assert kinds == {
        "ManifestError",
        "LockError",
        "ConfigError",
        "VersionsError",
        "IgnoreError",
        "PolicyError",
    }
