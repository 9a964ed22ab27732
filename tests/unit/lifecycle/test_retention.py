"""History retention, from plain values: which history tags keep their digest under
``--keep-history N``, what the planner then deletes, what the executor still objects to, and that
rollback works on what remains."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tagmgr.lifecycle.deletion import deletion_steps
from tagmgr.lifecycle.execute_expiry import Now, objections
from tagmgr.lifecycle.expiry import ExpiryVerdict, Limits, plan_expiry
from tagmgr.lifecycle.holdings import Held
from tagmgr.lifecycle.inuse import InUseSet
from tagmgr.lifecycle.policy import CountType, Policy
from tagmgr.lifecycle.promotion import TagState, plan_rollback
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.manifest.environments import Chain
from tagmgr.oci.reference import ImageReference
from tests.unit.lifecycle.test_expiry import (
    NOW,
    REGISTRY,
    REPOSITORY,
    digest,
    holdings,
    image,
    rule,
)

CHAIN = Chain(("dev", "prd"))
OLDER_THAN_30_DAYS = Policy("p.json", (rule(1, CountType.SINCE_IMAGE_PUSHED, 30, "build-*"),))


def dev(day: int) -> str:
    return f"dev-201901{day:02}T000000Z"


def test_without_a_limit_every_history_tag_keeps_its_digest() -> None:
    tags = {dev(1): "a", dev(2): "b", "prd-20190101T000000Z": "a", "build-1": "a"}
    assert HistoryWindow(CHAIN).kept(tags) == {
        dev(1): "a history tag",
        dev(2): "a history tag",
        "prd-20190101T000000Z": "a history tag",
    }


def test_the_newest_n_of_each_environment_keep_their_digest() -> None:
    tags = {dev(day): f"d{day}" for day in range(1, 6)} | {"dev": "d5"}
    tags |= {"prd-20190102T000000Z": "d2", "prd": "d2"}
    assert HistoryWindow(CHAIN, 2).kept(tags) == {
        dev(4): "one of the newest 2 history tags of dev",
        dev(5): "one of the newest 2 history tags of dev",
        "prd-20190102T000000Z": "one of the newest 2 history tags of prd",
    }


def test_the_entry_a_rollback_returns_to_is_kept_beyond_the_window() -> None:
    # The newest two record the current digest (the environment was moved back and forth by
    # hand in between): a plain rollback would return to dev-3, so dev-3 stays.
    tags = {dev(1): "a", dev(2): "b", dev(3): "c", dev(4): "d", dev(5): "d", "dev": "d"}
    kept = HistoryWindow(CHAIN, 2).kept(tags)
    assert kept[dev(3)] == "the history entry a rollback of dev returns to"
    assert sorted(kept) == [dev(3), dev(4), dev(5)]
    state = TagState(ImageReference(REGISTRY, REPOSITORY), {t: tags[t] for t in [*kept, "dev"]})
    assert plan_rollback(state, "dev", CHAIN, NOW).digest == "c"


def test_a_window_keeps_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        HistoryWindow(CHAIN, 0)


def daily() -> list[Held]:
    """Six builds from January 2019, each promoted to dev a day after it was built; the fourth
    went on to prd. dev points at the sixth."""
    built = [
        image(f"b{day}", 0, f"build-201901{day:02}T000000Z", dev(day + 1)) for day in range(1, 7)
    ]
    built[3] = image("b4", 0, *built[3].tags, "prd-20190110T000000Z", "prd")
    built[5] = image("b6", 0, *built[5].tags, "dev")
    return built


def test_old_history_is_reclaimed_and_a_digest_in_any_window_stays() -> None:
    held = holdings(*daily())
    limits = Limits(NOW, timedelta(0), 1.0, keep_history=2)
    plan = plan_expiry(OLDER_THAN_30_DAYS, held, InUseSet(), CHAIN, limits)
    found = {d.held.tags[0]: (d.verdict, d.reasons) for d in plan.decisions}
    beyond = "beyond the newest 2 history tags of each environment"
    assert found["build-20190101T000000Z"] == (
        ExpiryVerdict.DELETE,
        (
            "rule 1 (Rule 1): older than 30 days",
            f"{beyond}: {dev(2)}",
        ),
    )
    assert [tag for tag, (verdict, _) in found.items() if verdict is ExpiryVerdict.DELETE] == [
        "build-20190101T000000Z",
        "build-20190102T000000Z",
        "build-20190103T000000Z",
    ]
    # b4's dev tag is beyond the window, but its prd tags keep it: a digest goes only when
    # every history tag on it is beyond.
    assert found["build-20190104T000000Z"][1][1:] == (
        "tag prd-20190110T000000Z is one of the newest 2 history tags of prd",
        "tag prd is an environment tag",
    )
    assert found["build-20190105T000000Z"][1][1:] == (
        f"tag {dev(6)} is one of the newest 2 history tags of dev",
    )
    assert found["build-20190106T000000Z"][1][1:] == (
        f"tag {dev(7)} is one of the newest 2 history tags of dev",
        "tag dev is an environment tag",
    )

    # What remains: a plain rollback of dev goes to the fifth build.
    deleted = {d.held.digest for d in plan.deletions}
    left = {tag: d for d, h in held.images.items() if d not in deleted for tag in h.tags}
    state = TagState(ImageReference(REGISTRY, REPOSITORY), left)
    assert plan_rollback(state, "dev", CHAIN, NOW).digest == digest("b5")


def test_the_executor_objects_to_a_history_tag_within_the_window_as_read_now() -> None:
    held = holdings(*daily())
    limits = Limits(NOW, timedelta(0), 1.0, keep_history=2)
    plan = plan_expiry(OLDER_THAN_30_DAYS, held, InUseSet(), CHAIN, limits)
    first = next(s for s in deletion_steps(plan) if s.digest == digest("b1"))
    as_planned = {tag: d for d, h in held.images.items() for tag in h.tags}
    # Its dev history tag is beyond the window, as planned: no objection.
    assert objections(first, held, Now(as_planned, {}), plan.window) == []
    # The newer dev history went meanwhile (another run, by hand): dev-2 is within it again.
    fewer = {t: d for t, d in as_planned.items() if t not in (dev(3), dev(4), dev(6), dev(7))}
    assert objections(first, held, Now(fewer, {}), plan.window) == [
        f"tag {dev(2)} is one of the newest 2 history tags of dev"
    ]
    # A promotion meanwhile wrote a new history tag on it: the plan never saw that one.
    rolled_back = {**as_planned, "dev-20190201T000000Z": digest("b1")}
    assert objections(first, held, Now(rolled_back, {}), plan.window) == [
        "tagged dev-20190201T000000Z"
    ]
