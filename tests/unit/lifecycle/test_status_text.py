"""What status shows of each environment's history, and how a move's digests are named."""

from __future__ import annotations

from datetime import UTC, datetime

from tagmgr.lifecycle.status import DigestNames, digest_names, repository_status
from tagmgr.manifest.environments import Chain, HistoryTag
from tagmgr.oci.reference import ImageReference
from tagmgr.report.formats import render_text
from tagmgr.report.lifecycle import status
from tagmgr.report.model import TEXT

A, B, C = (f"sha256:{c * 64}" for c in "abc")
REPO = ImageReference.parse("127.0.0.1:5000/team/app")
TAGS = {
    "prd": B,
    "prd-20261030T090000Z": C,
    "prd-20261031T090000Z": A,
    "prd-20261101T081000Z": B,
    "build-20261031T120000Z": A,
    "build-20261101T120000Z": B,
    "v1.0": A,
    f"sha256-{'a' * 64}.sig": A,
}


def text(tags: dict[str, str], *, verbose: bool = False) -> list[str]:
    report = status([repository_status(REPO, tags, Chain())], verbose=verbose)
    return render_text(report, TEXT).splitlines()


def test_status_shows_each_environment_s_history_newest_first() -> None:
    assert text(TAGS) == [
        "127.0.0.1:5000/team/app",
        "  dev    not set",
        "  stg    not set",
        f"  prd    {B}  since prd-20261101T081000Z",
        "         build: build-20261101T120000Z",
        f"         history: prd-20261101T081000Z  {B}",
        f"                  prd-20261031T090000Z  {A}",
        f"                  prd-20261030T090000Z  {C}",
    ]


def test_a_long_history_is_cut_short_unless_verbose() -> None:
    tags = {f"dev-202611{day:02d}T000000Z": A for day in range(1, 9)}
    lines = [line for line in text(tags) if line.startswith("         ")]
    assert lines[0] == f"         history: dev-20261108T000000Z  {A}"
    assert len(lines) == 6
    assert lines[-1] == "                  and 3 older (-v lists them)"
    assert len([line for line in text(tags, verbose=True) if "dev-2026" in line]) == 8


def test_a_digest_is_named_by_its_builds_its_other_tags_and_the_history_that_put_it_there() -> None:
    when = datetime(2026, 10, 31, 9, 0, tzinfo=UTC)
    assert digest_names(TAGS, Chain(), "prd", A) == DigestNames(
        A, ("build-20261031T120000Z",), ("v1.0",), HistoryTag(when, "prd")
    )
    assert digest_names(TAGS, Chain(), "stg", A).recorded is None
    assert digest_names(TAGS, Chain(), "prd", None) == DigestNames(None, (), (), None)
