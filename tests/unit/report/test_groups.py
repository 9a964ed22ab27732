"""Each command group's report, rendered whole from values made by hand: check, promote, expire
and diff as Markdown (what a CI job posts), and the counts every JSON summary carries."""

from __future__ import annotations

from datetime import UTC, datetime

from tagmgr.changes.verdict import DiffVerdict, ImageDiff, PlatformDiff, Reason
from tagmgr.lifecycle.expiry import ExpiryDecision, ExpiryVerdict, RepositoryPlan
from tagmgr.lifecycle.holdings import Held, Holdings, ImageTime, TimeSource
from tagmgr.lifecycle.promotion import Move, Promotion, Reading
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.lock.check import Finding, State
from tagmgr.lock.model import LockEntry
from tagmgr.manifest.environments import Chain, HistoryTag
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.resolve import Resolution
from tagmgr.report.changes import diffed
from tagmgr.report.digests import checked, resolved
from tagmgr.report.formats import FORMATS
from tagmgr.report.lifecycle import expiry, moved
from tagmgr.report.model import Options, Report

A, B, C = ("sha256:" + c * 64 for c in "abc")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REPO = ImageReference.parse("reg.example/team/app")


def markdown(report: Report, **options: bool) -> str:
    return FORMATS["markdown"](report, Options("markdown", **options))


def finding(tag: str, state: State, now: str | None, error: str | None = None) -> Finding:
    target = REPO.with_tag(tag)
    entry = LockEntry(REPO.with_tag("build-1"), target, A, OCI_INDEX, "2026-12-01T00:00:00Z")
    found = Descriptor(OCI_INDEX, now, 500) if now else None
    return Finding(entry, state, Resolution(target, found, error=error))


def test_check_as_markdown_lists_what_moved_and_recaps_it() -> None:
    report = checked(
        [
            finding("v1", State.UNCHANGED, A),
            finding("v2", State.MOVED, B),
            finding("v3", State.GONE, None),
            finding("v4", State.ERROR, None, "registry reg.example: unreachable"),
        ],
        updated=False,
    )
    assert report.summary == {
        "unchanged": 1,
        "moved": 1,
        "gone": 1,
        "source-moved": 0,
        "source-gone": 0,
        "error": 1,
    }
    assert markdown(report, quiet=True) == (
        "## tagmgr check\n"
        "\n"
        "1 unchanged, 1 moved, 1 gone, 0 sources moved, 0 sources gone, 1 errors\n"
        "\n"
        "|  | target | locked digest | digest now |\n"
        "|---|---|---|---|\n"
        f"| moved | `reg.example/team/app:v2` | `{A}` | `{B}` |\n"
        f"| gone | `reg.example/team/app:v3` | `{A}` | none |\n"
        f"| error | `reg.example/team/app:v4` | `{A}` | reg.example/team/app:v4: registry "
        "reg.example: unreachable |\n"
        "\n"
        "Not shown (`--quiet`): 1 unchanged\n"
        "\n"
        "### Problems (3)\n"
        "\n"
        f"- reg.example/team/app:v2 moved from {A} to {B}\n"
        f"- reg.example/team/app:v3 is gone; it was at {A}\n"
        "- reg.example/team/app:v4: registry reg.example: unreachable\n"
    )


def test_a_promotion_as_markdown() -> None:
    history = HistoryTag(NOW, "stg")
    promotion = Promotion(
        Move.PROMOTE,
        REPO.with_digest(B),
        REPO,
        "stg",
        B,
        history,
        Reading(A, None, None),
        "it is in dev",
        copy=False,
    )
    report = moved(promotion, "planned")
    assert report.summary == {
        "present": 0,
        "planned": 1,
        "promoted": 0,
        "rolled-back": 0,
        "superseded": 0,
        "unrecorded": 0,
        "vanished": 0,
        "not-started": 0,
    }
    assert markdown(report) == (
        "## tagmgr promote\n"
        "\n"
        f"planned: reg.example/team/app:stg -\\> {B}; allowed: it is in dev\n"
        "\n"
        "|  | environment | digest | was | history |\n"
        "|---|---|---|---|---|\n"
        f"| planned | `reg.example/team/app:stg` | `{B}` | `{A}` | history tag {history.tag} |\n"
    )


def test_expire_as_markdown_counts_every_verdict_and_result() -> None:
    old = Held(A, OCI_MANIFEST, 10, ("build-20190101T000000Z",))
    kept = Held(B, OCI_MANIFEST, 10, ("prd",))
    time = ImageTime(datetime(2019, 1, 1, tzinfo=UTC), TimeSource.BUILD_TAG, old.tags[0])
    plan = RepositoryPlan(
        Holdings("reg.example", "team/app", {A: old, B: kept}),
        (
            ExpiryDecision(old, time, ExpiryVerdict.DELETE, ("rule 1 (old builds) expires it",)),
            ExpiryDecision(
                kept, time, ExpiryVerdict.KEEP, ("rule 1 (old builds) picks it, but kept",)
            ),
        ),
        HistoryWindow(Chain(("dev", "stg", "prd"))),
    )
    report = expiry([plan], {"reg.example/team/app": {A: "deleted"}})
    assert report.summary == {
        "delete": 1,
        "keep": 1,
        "deleted": 1,
        "gone": 0,
        "skipped": 0,
        "failed": 0,
        "not-started": 0,
        "refused": 0,
        "repositories": 1,
    }
    stamp = "2019-01-01T00:00:00Z from build tag build-20190101T000000Z"
    assert markdown(report) == (
        "## tagmgr expire\n"
        "\n"
        "1 deleted, 1 kept, in 1 repository\n"
        "\n"
        "|  | image | tags | time | reasons |\n"
        "|---|---|---|---|---|\n"
        f"| deleted | `reg.example/team/app@{A[:19]}` | `build-20190101T000000Z` | {stamp} "
        "| rule 1 (old builds) expires it |\n"
        f"| keep | `reg.example/team/app@{B[:19]}` | `prd` | {stamp} "
        "| rule 1 (old builds) picks it, but kept |\n"
    )


def test_diff_as_markdown_has_a_row_per_platform_with_its_reasons() -> None:
    diff = ImageDiff(
        "reg.example/team/app:b1",
        "reg.example/team/app:b2",
        A,
        B,
        (
            PlatformDiff(
                "linux/amd64", A, B, DiffVerdict.CHANGED, (Reason("file-added", "srv/x"),)
            ),
            PlatformDiff("linux/arm64", C, C, DiffVerdict.IDENTICAL),
        ),
    )
    report = diffed(diff)
    assert report.summary == {"identical": 1, "equivalent": 0, "changed": 1}
    assert markdown(report) == (
        "## tagmgr diff\n"
        "\n"
        "changed: reg.example/team/app:b1 -\\> reg.example/team/app:b2\n"
        "\n"
        "| platform | verdict | digest a | digest b | reasons |\n"
        "|---|---|---|---|---|\n"
        f"| `linux/amd64` | changed | `{A[:19]}` | `{B[:19]}` | file-added srv/x |\n"
        f"| `linux/arm64` | identical | `{C[:19]}` | `{C[:19]}` |  |\n"
    )


def test_resolve_counts_found_missing_and_failed() -> None:
    report = resolved(
        [
            Resolution(REPO.with_tag("v1"), Descriptor(OCI_INDEX, A, 500)),
            Resolution(REPO.with_tag("v2")),
            Resolution(REPO.with_tag("v3"), error="registry reg.example: unreachable"),
        ],
        None,
    )
    assert report.summary == {"found": 1, "not-found": 1, "error": 1}
    assert [str(problem) for problem in report.problems] == [
        "reg.example/team/app:v2: not found",
        "reg.example/team/app:v3: registry reg.example: unreachable",
    ]
