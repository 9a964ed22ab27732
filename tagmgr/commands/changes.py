"""``diff`` and ``versions``: did a rebuild really change, and which version each image is at."""

from __future__ import annotations

import argparse
import sys

from tagmgr import exitcodes
from tagmgr.commands import confirm
from tagmgr.commands.options import CommandTable, Parser, argument, positive_int
from tagmgr.errors import InvalidReferenceError, TagmgrError
from tagmgr.oci.reference import ImageReference, explain_invalid_tag, is_valid_tag


def register(table: CommandTable) -> None:
    registry = table.groups.registry
    diffing = table.add(
        "diff",
        diff,
        "compare two images, ignoring build noise (exit 0: identical or equivalent, 2: changed)",
        [registry],
        example="tagmgr diff --ignore examples/diff-ignore "
        "registry.example.com/team/app:build-41 registry.example.com/team/app:build-42",
    )
    diffing.add_argument("a", type=argument(image_reference), metavar="REF_A", help="an image")
    diffing.add_argument("b", type=argument(image_reference), metavar="REF_B", help="its rebuild")
    diffing.add_argument("--ignore", metavar="FILE", help=IGNORE_HELP)
    _register_versions(table)


IGNORE_HELP = "path globs whose differences do not count"


def _register_versions(table: CommandTable) -> None:
    registry = table.groups.registry
    versions = table.add_group(
        "versions",
        "per-image release versions, pinned until a build changes",
        example="tagmgr versions update examples/versions.yaml --build b42 --dry-run\n"
        "tagmgr versions release examples/versions.yaml v1.3.0 --build b42 --yes\n"
        "tagmgr versions export examples/versions.yaml",
    )
    updating = versions.add(
        "update",
        versions_update,
        "unpin auto-pinned images whose build really changed (exit 2: the file would change)",
        [registry],
        example="tagmgr versions update examples/versions.yaml --build b42   # asks first\n"
        "tagmgr versions update examples/versions.yaml --build b42 --yes",
    )
    _versions_file(updating, "the new build's tag", required=True)
    updating.add_argument("--ignore", metavar="FILE", help=IGNORE_HELP)
    confirm.add_options(updating, "edit the file in place", write=True)
    releasing = versions.add(
        "release",
        versions_release,
        "tag every unpinned auto image's build VERSION (never moving a tag) and pin it",
        [registry, table.groups.engine],
        example="tagmgr versions release examples/versions.yaml v1.3.0 --build b42 --dry-run\n"
        "tagmgr versions release examples/versions.yaml v1.3.0 --build b42 --yes",
    )
    _versions_file(releasing, "the build to release", required=True)
    releasing.add_argument("version", type=argument(tag), metavar="VERSION", help="the release tag")
    releasing.add_argument(
        "--jobs", type=positive_int, metavar="N", help="parallel work (default: 4)"
    )
    confirm.add_options(releasing, "create the tags and edit the file", write=True)
    exporting = versions.add(
        "export",
        versions_export,
        "print each image's version for a shell to source",
        example='eval "$(tagmgr versions export examples/versions.yaml --build b42)"',
    )
    _versions_file(exporting, "the version of unpinned images", required=False)
    exporting.add_argument(
        "--format", choices=("env",), default="env", help="output format (default: env)"
    )


def _versions_file(command: Parser, build_help: str, *, required: bool) -> None:
    command.add_argument("file", metavar="FILE", help="the versions file")
    command.add_argument(
        "--build", required=required, type=argument(tag), metavar="TAG", help=build_help
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
    from tagmgr.commands import changes_run as run
    from tagmgr.system import interrupt

    interrupt.stop_at_once()  # diff writes nothing
    return run.diff(args)


def versions_update(args: argparse.Namespace) -> int:
    from tagmgr.commands import changes_run as run

    return run.versions_update(args)


def versions_release(args: argparse.Namespace) -> int:
    from tagmgr.commands import changes_run as run

    return run.versions_release(args)


def versions_export(args: argparse.Namespace) -> int:
    from tagmgr.changes.export import export_env, exported
    from tagmgr.changes.versions import load_versions
    from tagmgr.report import JSON_FORMAT_VERSION, dump_json

    versions = load_versions(args.file)
    if args.output != "json":
        sys.stdout.write(export_env(versions, args.build))
        return exitcodes.OK
    images = [
        {"name": name, "variable": variable, "version": version}
        for name, variable, version in exported(versions, args.build)
    ]
    dump_json(
        {"format": JSON_FORMAT_VERSION, "command": "versions export", "images": images},
        sys.stdout,
    )
    return exitcodes.OK
