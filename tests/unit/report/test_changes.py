"""The reports of ``versions update`` and ``versions release``, rendered whole from steps made
by hand."""

from __future__ import annotations

import json

from tagmgr.changes.pinning import Step, VersionStep, as_manifest_entry
from tagmgr.changes.verdict import DiffVerdict, ImageDiff, PlatformDiff, Reason
from tagmgr.changes.versions import PinMode, VersionEntry
from tagmgr.errors import Location
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.targets import Target
from tagmgr.report.changes import stepped
from tagmgr.report.formats import FORMATS
from tagmgr.report.model import TEXT, Options, Report

A, B = ("sha256:" + c * 64 for c in "ab")


def entry(index: int, name: str, version: str | None, pin: PinMode = PinMode.AUTO) -> VersionEntry:
    ref = ImageReference.parse(f"reg.example/team/{name}")
    return VersionEntry(index, ref, version, pin, Location("versions.yaml", 3 + 2 * index, 5))


WEB, API, DB = entry(0, "web", "v1.0"), entry(1, "api", "v1.0"), entry(2, "db", "9", PinMode.MANUAL)
NOISE = Reason("file-modified", "/etc/build-id", ignored_by="/etc/build-id")


def diff(*platforms: PlatformDiff) -> ImageDiff:
    return ImageDiff("a", "b", A, B, platforms)


def text(report: Report) -> str:
    return FORMATS["text"](report, TEXT)


def test_an_update_shows_each_step_with_the_reasons_of_the_build_it_compared() -> None:
    changed = diff(
        PlatformDiff("linux/amd64", A, B, DiffVerdict.CHANGED, (Reason("file-added", "/app/x"),)),
        PlatformDiff("linux/arm64", A, B, DiffVerdict.EQUIVALENT, (), (NOISE,)),
    )
    same = diff(PlatformDiff("linux/amd64", A, B, DiffVerdict.EQUIVALENT, (), (NOISE,)))
    steps = [
        VersionStep(WEB, Step.UNPIN, None, changed),
        VersionStep(API, Step.KEEP, "v1.0", same),
        VersionStep(DB, Step.MANUAL, "9"),
    ]
    report = stepped("versions update", steps, written=False)
    assert text(report) == (
        "unpin     reg.example/team/web  v1.0 -> null  (build changed)\n"
        "          linux/amd64: file-added /app/x\n"
        "          linux/arm64: ignored by /etc/build-id: file-modified /etc/build-id\n"
        "keep      reg.example/team/api  v1.0  (build equivalent)\n"
        "          ignored by /etc/build-id: file-modified /etc/build-id\n"
        "manual    reg.example/team/db  9\n"
        "\n"
        "versions update: 1 keep, 1 manual, 1 unpin; nothing written (--yes to write)\n"
    )
    [web, *_] = json.loads(FORMATS["json"](report, Options("json")))["entries"]
    assert web == {
        "file": "versions.yaml",
        "line": 3,
        "column": 5,
        "field": "images[0]",
        "entry": "images[0]",
        "name": "reg.example/team/web",
        "pin": "auto",
        "version_before": "v1.0",
        "version": None,
        "step": "unpin",
        "verdict": "changed",
        "reasons": [
            {"platform": "linux/amd64", "kind": "file-added", "subject": "/app/x", "detail": ""}
        ],
        "ignored": [
            {
                "platform": "linux/arm64",
                "kind": "file-modified",
                "subject": "/etc/build-id",
                "detail": "",
                "rule": "/etc/build-id",
            }
        ],
        "action": None,
        "result": None,
        "source_digest": None,
        "message": None,
    }


def test_a_release_shows_what_was_tagged_and_locates_each_failure() -> None:
    unpinned = entry(0, "web", None)
    name = unpinned.name
    manifest_entry = as_manifest_entry(unpinned, "build-7", "v2.0")
    target = Target(manifest_entry, name.with_tag("build-7"), name.with_tag("v2.0"))
    create = Action(Kind.CREATE, target, Descriptor(OCI_INDEX, A, 100))
    steps = [
        VersionStep(unpinned, Step.PIN, "v2.0", None, create, Outcome(create, Result.CREATED)),
        VersionStep(entry(1, "api", None), Step.ERROR, None, message="build-7 does not exist"),
    ]
    report = stepped("versions release", steps, written=True)
    assert text(report) == (
        f"pin       reg.example/team/web  (unpinned) -> v2.0  (created at {A[:19]})\n"
        "error     reg.example/team/api  (unpinned)\n"
        "          build-7 does not exist\n"
        "\n"
        "versions release: 1 error, 1 pin; file written\n"
        "\n"
        "problems:\n"
        "  versions.yaml:5:5: images[1]: reg.example/team/api: build-7 does not exist\n"
    )
    assert text(stepped("versions release", [], written=False)) == (
        "\nversions release: no images; nothing to change\n"
    )
