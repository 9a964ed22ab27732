"""The in-use set answers by digest and by tag, per repository."""

from __future__ import annotations

from tagmgr.lifecycle.inuse import InUse, InUseSet
from tagmgr.oci.reference import ImageReference

DIGEST = "sha256:" + "a" * 64


def test_a_digest_is_in_use_only_in_its_own_repository() -> None:
    ref = ImageReference.parse(f"127.0.0.1:5000/team/app@{DIGEST}")
    uses = InUseSet([InUse(ref, "pods.json: default/web/app")])
    assert uses.uses_of_digest("127.0.0.1:5000", "team/app", DIGEST) == [
        InUse(ref, "pods.json: default/web/app")
    ]
    assert uses.uses_of_digest("127.0.0.1:5000", "team/other", DIGEST) == []
    assert uses.uses_of_tag("127.0.0.1:5000", "team/app", "v1") == []


def test_a_tag_with_a_digest_counts_under_both() -> None:
    ref = ImageReference.parse(f"127.0.0.1:5000/team/app:v1@{DIGEST}")
    uses = InUseSet([InUse(ref, "lock")])
    assert uses.uses_of_tag("127.0.0.1:5000", "team/app", "v1") == [InUse(ref, "lock")]
    assert uses.uses_of_digest("127.0.0.1:5000", "team/app", DIGEST) == [InUse(ref, "lock")]


def test_records_with_and_without_a_tag_sort_together() -> None:
    by_digest = ImageReference.parse(f"127.0.0.1:5000/team/app@{DIGEST}")
    tagged = ImageReference.parse(f"127.0.0.1:5000/team/app:v1@{DIGEST}")
    uses = InUseSet([InUse(tagged, "lock"), InUse(by_digest, "pods.json")])
    assert uses.uses_of_digest("127.0.0.1:5000", "team/app", DIGEST) == [
        InUse(tagged, "lock"),
        InUse(by_digest, "pods.json"),
    ]
