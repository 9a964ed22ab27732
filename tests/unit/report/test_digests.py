"""The reports of resolve, lock and check, rendered whole from values made by hand."""

from __future__ import annotations

import json
from pathlib import Path

from tagmgr.lock.check import Finding, State
from tagmgr.lock.model import LockEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from tagmgr.oci.platform import Platform
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.resolve import Resolution
from tagmgr.report.digests import checked, locked, resolved, source_not_updated
from tagmgr.report.formats import FORMATS
from tagmgr.report.model import TEXT, Options, Report

A, B, C, D = ("sha256:" + c * 64 for c in "abcd")
REPO = ImageReference.parse("reg.example/team/app")
AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
INDEX = Resolution(
    REPO.with_tag("v1"),
    Descriptor(OCI_INDEX, A, 500),
    (Descriptor(OCI_MANIFEST, B, 400, AMD64), Descriptor(OCI_MANIFEST, C, 400, ARM64)),
)
IMAGE = Resolution(REPO.with_tag("v2"), Descriptor(OCI_MANIFEST, D, 400))


def text(report: Report) -> str:
    return FORMATS["text"](report, TEXT)


def markdown(report: Report) -> str:
    return FORMATS["markdown"](report, Options("markdown"))


def test_resolve_shows_an_index_with_its_children() -> None:
    assert text(resolved([INDEX, IMAGE], None)) == (
        f"reg.example/team/app:v1  {A}  {OCI_INDEX}\n"
        f"  linux/amd64  {B}\n"
        f"  linux/arm64  {C}\n"
        f"reg.example/team/app:v2  {D}  {OCI_MANIFEST}\n"
    )


def test_resolve_for_a_platform_picks_its_child_and_refuses_where_there_is_none() -> None:
    report = resolved([INDEX, IMAGE], ARM64)
    assert text(report) == (
        f"reg.example/team/app:v1  linux/arm64  {C}  (one platform of {A})\n"
        f"reg.example/team/app:v2  error: reg.example/team/app:v2 is one manifest "
        f"({OCI_MANIFEST}), not an index\n"
    )
    assert report.summary == {"found": 1, "not-found": 0, "error": 1}
    references = json.loads(FORMATS["json"](report, Options("json")))["references"]
    assert references[0] == {
        "reference": "reg.example/team/app:v1",
        "digest": A,
        "media_type": OCI_INDEX,
        "size": 500,
        "platforms": [
            {"platform": "linux/amd64", "digest": B, "media_type": OCI_MANIFEST},
            {"platform": "linux/arm64", "digest": C, "media_type": OCI_MANIFEST},
        ],
        "platform": {"platform": "linux/arm64", "digest": C, "media_type": OCI_MANIFEST},
        "error": None,
    }
    assert markdown(report).splitlines()[4:7] == [
        "| reference | digest | media type | note |",
        "|---|---|---|---|",
        f"| `reg.example/team/app:v1` | `{C}` | `{OCI_INDEX}` | linux/arm64 of {A} |",
    ]
    windows = resolved([INDEX], Platform("windows", "amd64"))
    assert [str(p) for p in windows.problems] == [
        "reg.example/team/app:v1: reg.example/team/app:v1 has no single windows/amd64 manifest; "
        "it has linux/amd64, linux/arm64"
    ]


def test_a_lock_is_written_unchanged_or_not_written_for_its_problems() -> None:
    path = Path("images.lock")
    assert text(locked(path, 3, "written", [])) == "images.lock: 3 entries, written\n"
    assert locked(path, 3, "unchanged", []).headline == "images.lock: 3 entries, unchanged"
    stopped = locked(path, 3, "not written: interrupted")
    assert stopped.headline == "images.lock: 3 entries, not written: interrupted"
    assert stopped.results["written"] is False
    refused = locked(path, 2, "written", ["m.yaml:4:3: images[0]: error: no tag before commit"])
    assert refused.headline == "images.lock: not written"
    assert refused.warnings == (
        "tagmgr: error: m.yaml:4:3: images[0]: error: no tag before commit",
        "tagmgr: images.lock was not written",
    )
    assert markdown(refused) == (
        "## tagmgr lock\n"
        "\n"
        "images.lock: not written\n"
        "\n"
        "| lock file | entries |  |\n"
        "|---|---|---|\n"
        "| `images.lock` | 2 | not written |\n"
        "\n"
        "### Problems (1)\n"
        "\n"
        "- m.yaml:4:3: images\\[0\\]: error: no tag before commit\n"  # Markdown escapes []
    )


def source_finding(state: State, now: str | None) -> Finding:
    entry = LockEntry(REPO.with_tag("build-1"), REPO.with_tag("v1"), A, OCI_INDEX, "2026-12-01")
    found = Descriptor(OCI_INDEX, now, 500) if now else None
    return Finding(entry, state, Resolution(REPO.with_tag("build-1"), found), source=True)


def test_check_of_sources_names_the_target_each_belongs_to() -> None:
    moved, gone = source_finding(State.SOURCE_MOVED, B), source_finding(State.SOURCE_GONE, None)
    report = checked([moved, gone], updated=True)
    assert text(report) == (
        f"source-moved reg.example/team/app:build-1  {A} -> {B}"
        "  (source of reg.example/team/app:v1)\n"
        f"source-gone reg.example/team/app:build-1  was {A}  (source of reg.example/team/app:v1)\n"
        "\n"
        "check: 0 unchanged, 0 moved, 0 gone, 1 sources moved, 1 sources gone, 0 errors; "
        "the lock file was updated\n"
        "\n"
        "problems:\n"
        f"  reg.example/team/app:build-1, the source of reg.example/team/app:v1, moved from {A} "
        f"to {B}\n"
    )
    assert source_not_updated(moved) == (
        f"reg.example/team/app:build-1, the source of reg.example/team/app:v1, moved ({A} -> {B});"
        " --update does not follow a build tag: one that moved is a rebuilt or tampered source,"
        " not a new release. The entry was left as it was: find out who pushed it, then put the"
        " tag back or lock a new build"
    )


def test_resolve_and_check_as_text_name_what_is_missing_and_what_failed() -> None:
    missing, failed = Resolution(REPO.with_tag("v3")), Resolution(REPO.with_tag("v4"), error="503")
    assert text(resolved([missing, failed], ARM64)) == (
        "reg.example/team/app:v3  not found\nreg.example/team/app:v4  error: 503\n"
    )
    entry = LockEntry(REPO.with_tag("build-1"), REPO.with_tag("v1"), A, OCI_INDEX, "2026-12-01")
    findings = [
        Finding(entry, State.UNCHANGED, Resolution(entry.target, Descriptor(OCI_INDEX, A, 500))),
        Finding(entry, State.ERROR, Resolution(entry.target, error="registry reg.example: 503")),
    ]
    assert text(checked(findings, updated=False)).splitlines()[:2] == [
        f"unchanged  reg.example/team/app:v1  {A}",
        "error      reg.example/team/app:v1  registry reg.example: 503",
    ]
