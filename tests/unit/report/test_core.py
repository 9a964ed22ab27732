"""The reports of validate, describe and plan rendered whole, from values made by hand."""

from __future__ import annotations

import json

from tagmgr.errors import Location
from tagmgr.manifest.model import ImageEntry, Manifest
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.targets import Target, Unresolved
from tagmgr.report.core import described, planned, validated, writing
from tagmgr.report.formats import FORMATS
from tagmgr.report.model import TEXT, Options, Report

A = "sha256:" + "a" * 64
APP = ImageReference.parse("reg.example/team/app")


def entry(index: int, tag: str) -> ImageEntry:
    where = {"": Location("m.yaml", 3 + 4 * index, 5)}
    return ImageEntry(APP.name, "build-1", tag, f"images[{index}]", where)


DERIVED = Target(entry(0, "v1-{describe}"), APP.with_tag("build-1"), APP.with_tag("v1-3-gabc"), "3")
FAILED = Unresolved(entry(1, "v2-{describe}"), "no tag before commit abc1234")


def text(report: Report) -> str:
    return FORMATS["text"](report, TEXT)


def test_validate_counts_the_images_of_each_file() -> None:
    report = validated([Manifest("a.yaml", (entry(0, "v1"), entry(1, "v2"))), Manifest("b", ())])
    assert text(report) == "a.yaml: ok (2 images)\nb: ok (0 images)\n"
    assert (report.headline, report.summary) == (
        "valid: 2 images in 2 manifests",
        {"files": 2, "images": 2},
    )


def test_describe_shows_each_derived_tag_and_locates_each_failure() -> None:
    report = described([DERIVED, FAILED])
    assert text(report) == (
        "reg.example/team/app:v1-3-gabc  (git describe: 3)\n"
        "m.yaml:7:5: images[1]: no tag before commit abc1234\n"
    )
    assert report.headline == "1 tag derived, 1 error"
    document = json.loads(FORMATS["json"](report, Options("json")))
    assert document["entries"][0] == {
        "file": "m.yaml",
        "line": 3,
        "column": 5,
        "field": "images[0]",
        "entry": "images[0]",
        "name": "reg.example/team/app",
        "source": "reg.example/team/app:build-1",
        "target": "reg.example/team/app:v1-3-gabc",
        "tag": "v1-3-gabc",
        "describe": "3",
        "message": None,
    }
    assert document["problems"] == [
        {
            "file": "m.yaml",
            "line": 7,
            "column": 5,
            "field": "images[1]",
            "message": "no tag before commit abc1234",
        }
    ]


def test_a_verbose_plan_gives_whole_digests_and_an_unresolved_entry_its_place() -> None:
    create = Action(Kind.CREATE, DERIVED, Descriptor(OCI_INDEX, A, 10))
    error = Action(Kind.ERROR, FAILED, message=FAILED.message)
    assert text(planned([create, error], verbose=True)) == (
        "create          reg.example/team/app:v1-3-gabc <- build-1 (git describe: 3)  "
        f"{A} {OCI_INDEX}\n"
        "error           reg.example/team/app (m.yaml:7:5)\n"
        "                no tag before commit abc1234\n"
        "\n"
        "plan: 1 to create, 0 present, 0 conflicts, 0 missing sources, 1 errors\n"
        "\n"
        "problems:\n"
        "  m.yaml:7:5: images[1]: error: reg.example/team/app: no tag before commit abc1234\n"
    )
    assert writing(Outcome(create, Result.CREATED)) == "created reg.example/team/app:v1-3-gabc"
    assert writing(Outcome(error, Result.FAILED)) == "failed reg.example/team/app"
