"""The lifecycle reports rendered whole from values made by hand: status as text, each way a
carried-out promotion can end, and expire's refusals and failed deletions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tagmgr.lifecycle.expiry import ExpiryDecision, RepositoryPlan
from tagmgr.lifecycle.expiry import ExpiryVerdict as Action
from tagmgr.lifecycle.holdings import Held, Holdings, ImageTime, TimeSource
from tagmgr.lifecycle.promotion import Move, Promotion, PromotionOutcome, PromotionResult, Reading
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.lifecycle.status import EnvironmentStatus, RepositoryStatus
from tagmgr.manifest.environments import Chain, HistoryTag
from tagmgr.oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from tagmgr.oci.reference import ImageReference
from tagmgr.report.formats import FORMATS
from tagmgr.report.lifecycle import expiry, moved, status
from tagmgr.report.model import TEXT, Options, Report

A, B, C, D = ("sha256:" + c * 64 for c in "abcd")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REPO = ImageReference.parse("reg.example/team/app")
HISTORY = HistoryTag(NOW, "stg")


def text(report: Report) -> str:
    return FORMATS["text"](report, TEXT)


def as_json(report: Report) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(FORMATS["json"](report, Options("json")))
    return loaded


def test_status_as_text_shows_each_environment_and_what_names_its_digest() -> None:
    report = status(
        [
            RepositoryStatus(
                "reg.example/team/app",
                (
                    EnvironmentStatus(
                        "dev",
                        B,
                        "dev-20261121T080000Z",
                        ("build-20261120T100000Z",),
                        ("v2.0", "v2"),
                        ("commit-b",),
                        in_use=("pods.json: dev/web",),
                    ),
                    EnvironmentStatus("stg", A, None),
                    EnvironmentStatus("prd", None, None),
                ),
            )
        ]
    )
    assert report.summary == {"repositories": 1, "set": 2, "not-set": 1}
    assert report.headline == "1 repository, 2 environments set, 1 not set"
    assert text(report) == (
        "reg.example/team/app\n"
        f"  dev    {B}  since dev-20261121T080000Z\n"
        "         build: build-20261120T100000Z\n"
        "         release: v2.0, v2\n"
        "         src_ref: commit-b\n"
        "         in use: pods.json: dev/web\n"
        f"  stg    {A}  since unknown (no history tag)\n"
        "  prd    not set\n"
    )


def promotion(*, signed_by: tuple[str, ...] = (), copy: bool = False) -> Promotion:
    return Promotion(
        Move.PROMOTE,
        REPO.with_digest(B),
        REPO,
        "stg",
        B,
        HISTORY,
        Reading(A, None, None),
        "it is in dev",
        copy=copy,
        signed_by=signed_by,
    )


def test_a_signed_copied_promotion_carried_out_says_so_and_records_its_history_tag() -> None:
    signed = promotion(signed_by=("team.pub",), copy=True)
    done = PromotionOutcome(PromotionResult.MOVED, Reading(B, HISTORY, B), wrote=True)
    report = moved(signed, "promoted", done)
    assert text(report) == (
        f"promoted   reg.example/team/app:stg -> {B} (was {A})\n"
        f"           history tag {HISTORY.tag}; allowed: it is in dev\n"
        "           signed (cosign) by team.pub\n"
        f"           copied first from reg.example/team/app@{B}, digest kept\n"
    )
    assert (report.problems, report.warnings) == ((), ())
    record = as_json(report)["promotion"]
    assert record == {
        "move": "promote",
        "source": f"reg.example/team/app@{B}",
        "repository": "reg.example/team/app",
        "environment": "stg",
        "digest": B,
        "previous_digest": A,
        "history_tag": HISTORY.tag,
        "copy": True,
        "reason": "it is in dev",
        "signed_by": ["team.pub"],
        "result": "promoted",
        "now": {"digest": B, "history_tag": HISTORY.tag},
    }


@pytest.mark.parametrize(
    ("outcome", "problem", "warning"),
    [
        (
            PromotionOutcome(PromotionResult.SUPERSEDED, Reading(C, None, None), wrote=True),
            f"reg.example/team/app:stg was moved to {C} by another writer after this run's write",
            "tagmgr: ",
        ),
        (
            PromotionOutcome(PromotionResult.SUPERSEDED, Reading(C, None, None), wrote=False),
            f"reg.example/team/app:stg was moved to {C} by another writer since the plan; "
            "this run left it",
            "tagmgr: ",
        ),
        (
            PromotionOutcome(
                PromotionResult.UNRECORDED, Reading(B, None, None), wrote=True, problem="PUT: 500"
            ),
            f"no history tag could record reg.example/team/app:stg -> {B} (PUT: 500); "
            "reg.example/team/app:stg points at it: promoting that digest to stg again "
            "records it",
            "tagmgr: error: ",
        ),
        (
            PromotionOutcome(
                PromotionResult.UNRECORDED, Reading(A, None, None), wrote=True, problem="PUT: 500"
            ),
            f"no history tag could record reg.example/team/app:stg -> {B} (PUT: 500); "
            f"reg.example/team/app:stg is back at {A}",
            "tagmgr: error: ",
        ),
        (
            PromotionOutcome(
                PromotionResult.NOT_STARTED, Reading(A, None, None), False, "asked to stop first"
            ),
            f"asked to stop first; reg.example/team/app:stg points at {A}",
            "tagmgr: ",
        ),
        (
            PromotionOutcome(
                PromotionResult.VANISHED,
                Reading(None, None, None),
                wrote=False,
                problem="B is gone",
            ),
            "B is gone; reg.example/team/app:stg points at nothing",
            "tagmgr: error: ",
        ),
    ],
)
def test_a_promotion_that_did_not_end_as_asked_is_one_problem_and_one_warning(
    outcome: PromotionOutcome, problem: str, warning: str
) -> None:
    report = moved(promotion(), outcome.result.value, outcome)
    assert [str(p) for p in report.problems] == [problem]
    assert report.warnings == (warning + problem,)
    newest = "none"
    assert report.rows[0].text.splitlines()[1] == (
        f"           now at {outcome.after.at or 'nothing'}, newest history tag {newest}; "
        "allowed: it is in dev"
    )


BROKEN = (
    f"reg.example/team/app: index {C} (broken) names {D}, which the registry does not hold: "
    "it does not pull whole"
)


APP = "reg.example/team/app"


def _old_builds(
    *, broken: bool = False, refusal: str | None = None, repository: str = "team/app"
) -> RepositoryPlan:
    """team/app, whose two old builds the policy deletes; ``broken``: with an index missing a
    child."""
    old = Held(A, OCI_MANIFEST, 10, ("build-20190101T000000Z",))
    older = Held(B, OCI_MANIFEST, 10, ())
    held = {A: old, B: older}
    if broken:
        held[C] = Held(C, OCI_INDEX, 10, ("broken",), (D,), missing=(D,))
    time = ImageTime(datetime(2019, 1, 1, tzinfo=UTC), TimeSource.BUILD_TAG, old.tags[0])
    unknown = ImageTime(None, TimeSource.UNKNOWN)
    return RepositoryPlan(
        Holdings("reg.example", repository, held),
        (
            ExpiryDecision(old, time, Action.DELETE, ("rule 1 (old builds) expires it",)),
            ExpiryDecision(older, unknown, Action.DELETE, ("rule 2 (untagged) expires it",)),
        ),
        HistoryWindow(Chain(("dev", "stg", "prd"))),
        refusal,
    )


OLD_BUILD_ROWS = (
    "reg.example/team/app@{A}  (build-20190101T000000Z; "
    "2019-01-01T00:00:00Z from build tag build-20190101T000000Z)\n"
    "         rule 1 (old builds) expires it\n"
    "{result} reg.example/team/app@{B}  "
    "(no tags; no time (no build timestamp in a tag, no config created))\n"
    "         rule 2 (untagged) expires it\n"
)


def test_expire_names_holdings_problems_and_failed_deletions_once() -> None:
    report = expiry([_old_builds(broken=True)], {APP: {A: "deleted", B: "failed: DELETE: 405"}})
    assert report.summary == {
        "delete": 2,
        "keep": 0,
        "deleted": 1,
        "gone": 0,
        "skipped": 0,
        "failed": 1,
        "not-started": 0,
        "refused": 0,
        "repositories": 1,
    }
    assert text(report) == (
        "deleted  " + OLD_BUILD_ROWS.format(A=A, B=B, result="failed: DELETE: 405") + "\n"
        "expire: 1 deleted, 1 failed, 0 kept, in 1 repository\n"
        "\n"
        "problems:\n"
        f"  {BROKEN}\n"
        f"  reg.example/team/app@{B}: failed: DELETE: 405\n"
    )
    assert report.warnings == (f"tagmgr: error: {BROKEN}",)


def test_a_digest_in_two_repositories_has_a_result_in_each() -> None:
    """The same build pushed to two repositories is two deletions: one that failed is reported
    even when the other went."""
    plans = [_old_builds(), _old_builds(repository="team/copy")]
    failed = "failed: DELETE: 405"
    report = expiry(
        plans,
        {APP: {A: "deleted", B: "deleted"}, "reg.example/team/copy": {A: failed, B: "deleted"}},
    )
    assert (report.summary["deleted"], report.summary["failed"]) == (3, 1)
    assert [str(p) for p in report.problems] == [f"reg.example/team/copy@{A}: {failed}"]
    assert text(report).splitlines()[-4] == (
        "expire: 3 deleted, 1 failed, 0 kept, in 2 repositories"
    )
    images = [image for r in report.results["repositories"] for image in r["images"]]
    assert [image["result"] for image in images] == ["deleted", "deleted", failed, "deleted"]


def test_the_summary_counts_only_what_was_deleted_as_deleted() -> None:
    report = expiry([_old_builds()], {APP: {A: "gone", B: f"skipped: {A[:19]} had to go first"}})
    assert text(report).splitlines()[-4] == (
        "expire: 0 deleted, 1 already gone, 1 skipped, 0 kept, in 1 repository"
    )


def test_a_refusal_is_one_problem_and_the_summary_says_nothing_was_deleted() -> None:
    """A refusal stops the whole run: the rows say what the policy would delete, the summary
    that nothing was, and the refusal is said once, under problems, naming its repository."""
    refusal = "reg.example/team/app: the policy would delete 2 of 2 manifests, more than 50%"
    empty = RepositoryPlan(
        Holdings("reg.example", "team/db", {}), (), HistoryWindow(Chain(("dev", "stg")))
    )
    report = expiry([_old_builds(refusal=refusal), empty])
    assert (report.summary["refused"], report.summary["delete"]) == (1, 2)
    assert text(report) == (
        "delete   " + OLD_BUILD_ROWS.format(A=A, B=B, result="delete  ") + "\n"
        "expire: nothing deleted, 1 of 2 repositories refused"
        " (the policy would delete 2 and keep 0)\n"
        "\n"
        "problems:\n"
        f"  refused: {refusal}\n"
    )
    assert report.warnings == (f"tagmgr: error: {refusal}",)


def test_expire_stopped_part_way_counts_what_was_not_started_and_calls_it_no_failure() -> None:
    unknown = ImageTime(None, TimeSource.UNKNOWN)
    plan = RepositoryPlan(
        Holdings(
            "reg.example",
            "team/app",
            {A: Held(A, OCI_MANIFEST, 10, ()), B: Held(B, OCI_MANIFEST, 10, ())},
        ),
        tuple(
            ExpiryDecision(
                Held(d, OCI_MANIFEST, 10, ()), unknown, Action.DELETE, ("rule 1 expires it",)
            )
            for d in (A, B)
        ),
        HistoryWindow(Chain(("dev", "stg"))),
    )
    report = expiry([plan], {APP: {A: "deleted", B: "not-started"}})
    assert report.summary["deleted"] == 1
    assert report.summary["not-started"] == 1
    assert report.problems == ()
    assert report.warnings == ()
    assert (
        text(report).splitlines()[-1] == "expire: 1 deleted, 1 not started, 0 kept, in 1 repository"
    )
