"""``diff`` and ``versions``: did a rebuild really change, and which version each image is at."""

from __future__ import annotations

import argparse

from tagmgr.commands.options import CommandTable, argument
from tagmgr.errors import InvalidReferenceError
from tagmgr.reference import ImageReference


def register(table: CommandTable) -> None:
    registry = table.groups.registry
    diffing = table.add(
        "diff",
        diff,
        "compare two images, ignoring build noise (exit 0: identical or equivalent, 2: changed)",
        [registry],
    )
    diffing.add_argument("a", type=argument(image_reference), metavar="REF_A", help="an image")
    diffing.add_argument("b", type=argument(image_reference), metavar="REF_B", help="its rebuild")
    diffing.add_argument(
        "--ignore", metavar="FILE", help="path globs whose differences do not count"
    )


def image_reference(text: str) -> ImageReference:
    reference = ImageReference.parse(text)
    if reference.tag is None and reference.digest is None:
        raise InvalidReferenceError(f"{text!r}: give a tag or a digest (name:tag, name@sha256:...)")
    return reference


def diff(args: argparse.Namespace) -> int:
    from tagmgr.changes import run  # noqa: PLC0415 (registry client, tarfile: heavy)

    return run.diff(args)
