"""``diff`` and ``versions``: did a rebuild really change, and which version each image is at."""

from __future__ import annotations

import argparse

from tagmgr import exitcodes
from tagmgr.commands import confirm
from tagmgr.commands.options import (
    CommandTable,
    Parser,
    argument,
    positive_int,
    quiet_option,
    report_options,
)
from tagmgr.errors import InvalidReferenceError, TagmgrError
from tagmgr.oci.reference import ImageReference, explain_invalid_tag, is_valid_tag
from tagmgr.oci.transport import ImageLocation, parse_location


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
    diffing.add_argument("a", type=argument(image_location), metavar="IMAGE_A", help=LOCATION_HELP)
    diffing.add_argument(
        "b", type=argument(image_location), metavar="IMAGE_B", help="its rebuild, spelled alike"
    )
    diffing.add_argument("--ignore", metavar="FILE", help=IGNORE_HELP)
    _register_versions(table)


LOCATION_HELP = (
    "an image: a registry reference, or oci:DIR[:REF], oci-archive:FILE[:REF], "
    "docker-archive:FILE[:REF], docker-daemon:NAME:TAG"
)
IGNORE_HELP = "rules (paths, label:, env:, config:...) whose differences do not count"


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
        "unpin auto-pinned images whose build really changed",
        [registry],
        example="tagmgr versions update examples/versions.yaml --build b42   # asks first\n"
        "tagmgr versions update examples/versions.yaml --build b42 --yes\n"
        "tagmgr versions update versions.sh --image-map image-map.yaml --build b42 --local",
    )
    _versions_file(updating, "the new build's tag", required=True)
    updating.add_argument(
        "--local", action="store_true", help="compare each entry's local image of the build"
    )
    updating.add_argument("--ignore", metavar="FILE", help=IGNORE_HELP)
    confirm.add_options(updating, "edit the file in place", write=True)
    quiet_option(updating, "images that keep their version")
    releasing = versions.add(
        "release",
        versions_release,
        "tag every unpinned auto image's build VERSION (never moving a tag) and pin it",
        [registry, table.groups.engine],
        example="tagmgr versions release examples/versions.yaml v1.3.0 --build b42 --dry-run\n"
        "tagmgr versions release examples/versions.yaml v1.3.0 --build b42 --yes\n"
        "tagmgr versions release examples/versions.yaml v1.3.0 --build b42 --local --yes"
        "   # push this machine's builds",
    )
    _versions_file(releasing, "the build to release", required=True)
    releasing.add_argument("version", type=argument(tag), metavar="VERSION", help="the release tag")
    releasing.add_argument(
        "--local", action="store_true", help="push each entry's local image of the build"
    )
    releasing.add_argument(
        "--jobs", type=positive_int, metavar="N", help="parallel work (default: 4)"
    )
    confirm.add_options(releasing, "create the tags and edit the file", write=True)
    quiet_option(releasing, "images that keep their version")
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
    if required:  # update and release; export reads the YAML file only
        command.add_argument(
            "--image-map",
            metavar="MAP",
            help="FILE is a shell file of NAME_VER assignments; MAP names each one's image",
        )


def image_location(text: str) -> ImageLocation:
    location = parse_location(text)
    if isinstance(location, ImageReference) and location.tag is None and location.digest is None:
        raise InvalidReferenceError(f"{text!r}: give a tag or a digest (name:tag, name@sha256:...)")
    return location


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
    from tagmgr.changes.versions import load_versions
    from tagmgr.report.changes import exports
    from tagmgr.report.publish import publish

    publish(exports(load_versions(args.file), args.build), report_options(args))
    return exitcodes.OK
