"""Promotion and rollback planning, and the names behind them: chains and history tags."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tagmgr.errors import ManifestError
from tagmgr.lifecycle.promotion import (
    Move,
    PromotionRefused,
    TagState,
    plan_promotion,
    plan_rollback,
)
from tagmgr.manifest import load_manifests
from tagmgr.manifest.environments import (
    Chain,
    ChainError,
    build_time,
    history_tag,
    parse_chain,
    parse_history_tag,
)
from tagmgr.oci.reference import ImageReference

NOW = datetime(2026, 12, 1, 23, 22, 26, 123456, tzinfo=UTC)
REPO = ImageReference("127.0.0.1:5000", "team/app")
A, B, C = ("sha256:" + c * 64 for c in "abc")
CHAIN = Chain()


def state(**tags: str) -> TagState:
    return TagState(REPO, {tag.replace("_", "-"): digest for tag, digest in tags.items()})


def test_history_tags_name_the_environment_and_the_second_in_utc() -> None:
    entry = history_tag("prd", NOW)
    assert entry.tag == "prd-20261201T232226Z"
    assert parse_history_tag("prd-20261201T232226Z", CHAIN) == entry
    assert parse_history_tag("qa-20261201T232226Z", CHAIN) is None
    assert parse_history_tag("prd-20261301T232226Z", CHAIN) is None


def test_a_build_tag_gives_its_timestamp_and_a_history_tag_does_not() -> None:
    tags = ["prd-20261201T232226Z", "master-centos-stable-20191203T153530Z.0"]
    assert build_time(tags, CHAIN) == (
        datetime(2019, 12, 3, 15, 35, 30, tzinfo=UTC),
        "master-centos-stable-20191203T153530Z.0",
    )


def test_chains_are_parsed_and_checked() -> None:
    assert parse_chain("dev, qa ,prd").names == ("dev", "qa", "prd")
    with pytest.raises(ChainError, match="environment 'qa' is named twice in the chain"):
        parse_chain("qa,qa")
    with pytest.raises(ChainError, match="must not contain a timestamp"):
        parse_chain("dev-20191203T153530Z")


def test_the_first_environment_takes_any_digest() -> None:
    promotion = plan_promotion(state(), state(), digest=A, environment="dev", chain=CHAIN, now=NOW)
    assert (promotion.move, promotion.current, promotion.changes) == (Move.PROMOTE, None, True)
    assert promotion.reason == "dev is the first environment of dev,stg,prd"
    assert promotion.history.tag == "dev-20261201T232226Z"


def test_a_digest_that_was_once_in_the_environment_before_may_go_on() -> None:
    tags = state(stg=B, stg_20261101T000000Z=A, stg_20261102T000000Z=B)
    promotion = plan_promotion(tags, tags, digest=A, environment="prd", chain=CHAIN, now=NOW)
    assert promotion.reason == "stg-20261101T000000Z shows it was in stg"


def test_a_skipped_environment_is_refused() -> None:
    tags = state(dev=A, stg=B)
    with pytest.raises(PromotionRefused) as refused:
        plan_promotion(tags, tags, digest=A, environment="prd", chain=CHAIN, now=NOW)
    assert str(refused.value) == (
        f"127.0.0.1:5000/team/app@{A} was never in stg, the environment before the one asked"
        f" for (stg points at {B}, and no stg history tag points at it); promote it to stg first"
    )


def test_rollback_goes_to_the_latest_entry_with_another_digest() -> None:
    tags = state(prd=C, prd_20261101T000000Z=A, prd_20261102T000000Z=B, prd_20261103T000000Z=C)
    rollback = plan_rollback(tags, "prd", CHAIN, NOW)
    assert (rollback.move, rollback.digest, rollback.current) == (Move.ROLLBACK, B, C)
    assert rollback.reason == "prd-20261102T000000Z recorded it in prd"
    named = plan_rollback(tags, "prd", CHAIN, NOW, to="prd-20261101T000000Z")
    assert named.digest == A


def test_rollback_without_history_is_refused() -> None:
    with pytest.raises(PromotionRefused, match="prd has no earlier history entry"):
        plan_rollback(state(prd=A, prd_20261101T000000Z=A), "prd", CHAIN, NOW)
    with pytest.raises(
        PromotionRefused, match=r"dev-1 is not a history tag of prd .*history: none"
    ):
        plan_rollback(state(prd=A), "prd", CHAIN, NOW, to="dev-1")


def test_a_history_tag_is_named_after_the_newest_so_none_is_written_twice() -> None:
    """Two moves in one second, or a clock behind another writer's: the next second after the
    newest history tag, whatever the clock says."""
    same_second = state(dev=B, dev_20261201T232226Z=B)
    promotion = plan_promotion(
        same_second, same_second, digest=A, environment="dev", chain=CHAIN, now=NOW
    )
    assert promotion.history.tag == "dev-20261201T232227Z"
    ahead = state(dev=B, dev_20261201T235959Z=B, dev_20261201T000000Z=A)
    assert plan_rollback(ahead, "dev", CHAIN, NOW).history.tag == "dev-20261202T000000Z"


def test_an_environment_at_the_digest_that_its_history_does_not_record_still_changes() -> None:
    """A run cut short after the environment's write: promoting the digest again records it."""
    unrecorded = state(dev=A, dev_20261101T000000Z=B)
    promotion = plan_promotion(
        unrecorded, unrecorded, digest=A, environment="dev", chain=CHAIN, now=NOW
    )
    assert (promotion.current, promotion.changes) == (A, True)
    recorded = state(dev=A, dev_20261101T000000Z=B, dev_20261102T000000Z=A)
    promotion = plan_promotion(
        recorded, recorded, digest=A, environment="dev", chain=CHAIN, now=NOW
    )
    assert (promotion.before.newest, promotion.changes) == (
        history_tag("dev", datetime(2026, 11, 2, tzinfo=UTC)),
        False,
    )


def test_validate_refuses_a_release_tag_that_is_an_environment_or_history_tag(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "images.yaml"
    manifest.write_text(
        "environments: [dev, qa]\n"
        "images:\n"
        "- {name: 127.0.0.1:5000/team/app, src_build_tag: b1, tag: qa}\n"
        "- {name: 127.0.0.1:5000/team/app, src_build_tag: b1, tag: dev-20191203T153530Z}\n"
        "- {name: 127.0.0.1:5000/team/app, src_build_tag: b1, tag: prd}\n"
    )
    with pytest.raises(ManifestError) as error:
        load_manifests([str(manifest)])
    assert str(error.value) == (
        f"{manifest}:3:59: images[0].tag: 'qa' is an environment (environments: dev, qa);"
        " environment tags move on promote and rollback, a release tag never does\n"
        f"{manifest}:4:59: images[1].tag: 'dev-20191203T153530Z' is a history tag of an"
        " environment (environments: dev, qa); environment tags move on promote and rollback,"
        " a release tag never does"
    )
