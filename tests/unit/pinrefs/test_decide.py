"""What pin-refs decides for each reference, and what check makes of each answer: pure logic."""

from __future__ import annotations

from tagmgr import exitcodes
from tagmgr.errors import Location
from tagmgr.filerefs.site import Site, inline_site
from tagmgr.lock import LockEntry
from tagmgr.lock.check import State, check_entry, check_exit_code
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.pinrefs.pins import Change, Pin, PinTable, Unresolvable, is_floating
from tagmgr.reconcile.resolve import Resolution

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
APP = ImageReference.parse("docker.io/team/app")


def site(written: str) -> Site:
    return inline_site(Location("f", 1, 1), 0, written, ImageReference.parse_familiar(written))


def table(*tags: str) -> PinTable:
    return PinTable(Pin(APP, tag, frozenset({f"build-{tag}"}), A) for tag in tags)


def test_floating_tags_are_none_or_have_a_latest_word() -> None:
    assert [is_floating(t) for t in (None, "latest", "master-centos-stable-latest", "v1")] == [
        True,
        True,
        True,
        False,
    ]
    assert not is_floating("latestness")


def test_a_build_tag_or_a_floating_tag_becomes_the_stable_tag() -> None:
    pins = table("v1")
    assert pins.decide(s := site("team/app:build-v1"), with_digest=False) == Change(s, "v1", None)
    assert pins.decide(s := site("team/app"), with_digest=True) == Change(s, "v1", A)
    assert pins.decide(site("team/app:v1"), with_digest=False) is None
    assert pins.decide(site(f"team/app:v1@{A}"), with_digest=True) is None
    assert pins.decide(site("other/app:latest"), with_digest=False) is None


def test_what_cannot_be_told_is_unresolvable() -> None:
    two = table("v1", "v2")
    assert two.decide(s := site("team/app:latest"), with_digest=False) == Unresolvable.at(
        s,
        "floating tag of docker.io/team/app, which has several entries (v1, v2); cannot tell which",
    )
    assert two.decide(s := site(f"team/app@{B}"), with_digest=False) == Unresolvable.at(
        s, f"pinned to {B}, which no entry's tag points at"
    )
    assert two.decide(s := site("team/app:build-v2"), with_digest=False) == Change(s, "v2", None)


def test_a_digest_no_registry_was_asked_for_is_not_said_to_be_missing() -> None:
    """``--manifest`` without ``--digest`` asks no registry: a reference carrying a digest
    cannot be moved, and the reason is that, not that the image does not exist."""
    unasked = PinTable([Pin(APP, "v1", frozenset({"build-v1"}), None)], digests_known=False)
    asked = PinTable([Pin(APP, "v1", frozenset({"build-v1"}), None)])
    s = site(f"team/app:build-v1@{A}")
    assert unasked.decide(s, with_digest=False) == Unresolvable.at(
        s,
        "carries a digest; without --digest no registry is asked for the digest of"
        " docker.io/team/app:v1, so give --digest",
    )
    assert asked.decide(s, with_digest=True) == Unresolvable.at(
        s, "no digest known for docker.io/team/app:v1: it does not exist yet"
    )


def test_check_states_and_exit_codes() -> None:
    target = ImageReference.parse("127.0.0.1:5000/app:v1")
    entry = LockEntry(target.with_tag("b1"), target, A, "m", "2026-12-01T10:00:00Z")
    same = check_entry(entry, Resolution(target, Descriptor("m", A, 1)))
    moved = check_entry(entry, Resolution(target, Descriptor("m", B, 1)))
    gone = check_entry(entry, Resolution(target))
    failed = check_entry(entry, Resolution(target, error="registry down"))
    assert [f.state for f in (same, moved, gone, failed)] == [
        State.UNCHANGED,
        State.MOVED,
        State.GONE,
        State.ERROR,
    ]
    assert check_exit_code([same]) == exitcodes.OK
    assert check_exit_code([same, gone]) == exitcodes.CHANGES_PENDING
    assert check_exit_code([moved, failed]) == exitcodes.FAILURE
