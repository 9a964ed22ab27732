"""``diff`` and ``versions``: did a rebuild really change, and which version each image is at."""

from __future__ import annotations

import argparse
import sys

from tagmgr import exitcodes
from tagmgr.commands.options import CommandTable, Parser, Run, argument, positive_int
from tagmgr.errors import InvalidReferenceError, TagmgrError
from tagmgr.reference import ImageReference, explain_invalid_tag, is_valid_tag


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
    diffing.add_argument("--ignore", metavar="FILE", help=IGNORE_HELP)
    _register_versions(table)


IGNORE_HELP = "path globs whose differences do not count"


def _register_versions(table: CommandTable) -> None:
    groups = table.groups
    versions = table.add(
        "versions", _no_command, "per-image release versions, pinned until a build changes"
    )
    commands = versions.add_subparsers(dest="versions_command", required=True, parser_class=Parser)

    def add(name: str, run: Run, text: str, parents: list[Parser]) -> Parser:
        command: Parser = commands.add_parser(
            name, help=text, description=text, parents=[groups.output, *parents]
        )
        command.add_argument("file", metavar="FILE", help="the versions file")
        command.set_defaults(run=run)
        return command

    updating = add(
        "update",
        versions_update,
        "unpin auto-pinned images whose build really changed (exit 2: the file would change)",
        [groups.registry],
    )
    updating.add_argument(
        "--build", required=True, type=argument(tag), metavar="TAG", help="the new build's tag"
    )
    updating.add_argument("--ignore", metavar="FILE", help=IGNORE_HELP)
    updating.add_argument("--write", action="store_true", help="edit the file in place")
    releasing = add(
        "release",
        versions_release,
        "tag every unpinned auto image's build VERSION (never moving a tag) and pin it",
        [groups.registry],
    )
    releasing.add_argument("version", type=argument(tag), metavar="VERSION", help="the release tag")
    releasing.add_argument(
        "--build", required=True, type=argument(tag), metavar="TAG", help="the build to release"
    )
    releasing.add_argument(
        "--jobs", type=positive_int, default=4, metavar="N", help="parallel work (default: 4)"
    )
    releasing.add_argument("--write", action="store_true", help="create the tags and edit the file")
    exporting = add(
        "export", versions_export, "print each image's version for a shell to source", []
    )
    exporting.add_argument("--format", choices=("env",), required=True, help="output format")
    exporting.add_argument(
        "--build", type=argument(tag), metavar="TAG", help="the version of unpinned images"
    )


def image_reference(text: str) -> ImageReference:
    reference = ImageReference.parse(text)
    if reference.tag is None and reference.digest is None:
        raise InvalidReferenceError(f"{text!r}: give a tag or a digest (name:tag, name@sha256:...)")
    return reference


def tag(text: str) -> str:
    if not is_valid_tag(text):
        raise TagmgrError(explain_invalid_tag(text))
    return text


def diff(args: argparse.Namespace) -> int:
    from tagmgr.changes import run

    return run.diff(args)


def versions_update(args: argparse.Namespace) -> int:
    from tagmgr.changes import run

    return run.versions_update(args)


def versions_release(args: argparse.Namespace) -> int:
    from tagmgr.changes import run

    return run.versions_release(args)


def versions_export(args: argparse.Namespace) -> int:
    from tagmgr.changes.export import export_env
    from tagmgr.changes.versions import load_versions

    sys.stdout.write(export_env(load_versions(args.file), args.build))
    return exitcodes.OK


def _no_command(args: argparse.Namespace) -> int:
    raise AssertionError("argparse requires a versions sub-command")
