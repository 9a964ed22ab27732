"""What the inventory reads and what it makes of the answers, against an in-memory registry."""

from __future__ import annotations

from tagmgr.errors import Location, RegistryError
from tagmgr.manifest.model import ImageEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.inventory import take_inventory
from tagmgr.reconcile.plan import Lookup
from tagmgr.reconcile.targets import Target, Unresolved
from tests.support.memory import MemoryRegistry
from tests.support.oci import oci_image, oci_index


def target(repository: str, source: str, tag: str) -> Target:
    name = ImageReference.parse(f"registry.example/{repository}")
    entry = ImageEntry(name.name, source, tag, "images[0]", {"": Location("m.yaml", 2, 3)})
    return Target(entry, name.with_tag(source), name.with_tag(tag))


class Tally:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def expect(self, count: int) -> None:
        self.calls.append(f"expect {count}")

    def advance(self, what: str = "") -> None:
        self.calls.append("advance")


def test_each_repository_is_listed_once_and_only_listed_tags_are_read() -> None:
    registry = MemoryRegistry()
    built = registry.push("team/app", "build-1", oci_image("inventory"))
    registry.push("team/app", "v1", oci_image("inventory"))
    present, new, elsewhere = (
        target("team/app", "build-1", "v1"),
        target("team/app", "build-1", "v2"),
        target("team/other", "build-1", "v1"),
    )
    unresolved = Unresolved(present.entry, "no tag before commit")
    tally = Tally()
    inventory = take_inventory([present, new, elsewhere, unresolved], registry, jobs=1, tally=tally)
    no_repository = Lookup(missing="the registry has no repository team/other")
    assert inventory == {
        present.source: Lookup(built),
        present.destination: Lookup(built),
        new.destination: Lookup(missing="team/app has no tag v2"),
        elsewhere.source: no_repository,
        elsewhere.destination: no_repository,
    }
    assert registry.requests == [
        "list team/app",
        "list team/other",
        "HEAD team/app:build-1",
        "HEAD team/app:v1",
    ]
    # The tally counts the requests: two listings, then the two HEADs (five look-ups).
    assert tally.calls == ["expect 2", *["advance"] * 2, "expect 2", *["advance"] * 2]


def test_a_source_by_digest_is_read_though_no_tag_lists_it() -> None:
    registry = MemoryRegistry()
    built = registry.push("team/app", "build-1", oci_image("by-digest"))
    pinned = target("team/app", "build-1", "v1")
    by_digest = pinned._replace(source=pinned.source.with_digest(built.digest))
    inventory = take_inventory([by_digest], registry, jobs=2)
    assert inventory == {
        by_digest.source: Lookup(built),
        by_digest.destination: Lookup(missing="team/app has no tag v1"),
    }


def test_trusting_existing_tags_reads_no_listed_destination_nor_a_source_only_it_needs() -> None:
    registry = MemoryRegistry()
    registry.push("team/app", "v1", oci_image("trusted"))
    registry.push("team/app", "build-1", oci_image("trusted"))
    listed = target("team/app", "build-1", "v1")
    inventory = take_inventory([listed], registry, jobs=2, trust_existing=True)
    assert inventory == {listed.destination: Lookup(trusted=True)}
    assert registry.requests == ["list team/app"]


def test_a_trusted_destination_that_is_another_entry_s_source_is_still_read_as_one() -> None:
    """v1 <- build-1 and v1-latest <- v1: v1 is trusted as a destination, and still HEADed for
    the entry that copies it (it once came back empty, a missing source)."""
    registry = MemoryRegistry()
    image = registry.push("team/app", "v1", oci_image("trusted"))
    registry.push("team/app", "build-1", oci_image("trusted"))
    listed = target("team/app", "build-1", "v1")
    chained = target("team/app", "v1", "v1-latest")
    inventory = take_inventory([listed, chained], registry, jobs=2, trust_existing=True)
    assert inventory[listed.destination] == Lookup(image, trusted=True)
    assert inventory[chained.source].descriptor == image


def test_a_repository_that_cannot_be_listed_is_an_error_for_each_of_its_references() -> None:
    class Unlistable(MemoryRegistry):
        def find_tags(self, repository: str) -> list[str] | None:
            raise RegistryError("registry.example", f"GET /v2/{repository}/tags/list: 500")

    broken = target("team/app", "build-1", "v1")
    error = Lookup(error="registry registry.example: GET /v2/team/app/tags/list: 500")
    inventory = take_inventory([broken], Unlistable(), jobs=2)
    assert inventory == {broken.source: error, broken.destination: error}


def test_a_source_pinned_elsewhere_than_its_index_gets_the_index_s_children() -> None:
    registry = MemoryRegistry()
    built = oci_index("pinned")
    index = registry.push("team/app", "build-1", built)
    amd64, arm64 = (child.digest for child in built.children)  # in PLATFORMS' order
    pinned = target("team/app", "build-1", "v1")._replace(pinned=arm64)
    inventory = take_inventory([pinned], registry, jobs=2)
    children = {amd64: "linux/amd64", arm64: "linux/arm64"}
    assert inventory[pinned.source] == Lookup(index, children=children)
    exact = pinned._replace(pinned=index.digest)
    assert take_inventory([exact], registry, jobs=2)[exact.source] == Lookup(index)


def test_a_tag_listed_but_unreadable_is_an_error_for_that_reference_alone() -> None:
    class Flaky(MemoryRegistry):
        def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
            if reference == "build-1":
                raise RegistryError(self.registry, f"HEAD {repository}:{reference}: 503")
            return super().head_manifest(repository, reference)

    registry = Flaky()
    registry.push("team/app", "build-1", oci_image("flaky"))
    tagged = registry.push("team/app", "v1", oci_image("flaky"))
    entry = target("team/app", "build-1", "v1")
    assert take_inventory([entry], registry, jobs=2) == {
        entry.source: Lookup(error="registry registry.example: HEAD team/app:build-1: 503"),
        entry.destination: Lookup(tagged),
    }


def test_a_pinned_source_whose_index_cannot_be_read_is_an_error() -> None:
    class NoGets(MemoryRegistry):
        def get_manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
            raise RegistryError(self.registry, f"GET {repository}:{reference}: 500")

    registry = NoGets()
    index = registry.push("team/app", "build-1", oci_index("unreadable"))
    pinned = target("team/app", "build-1", "v1")._replace(pinned="sha256:" + "e" * 64)
    assert take_inventory([pinned], registry, jobs=2)[pinned.source] == Lookup(
        error=f"registry registry.example: GET team/app:{index.digest}: 500"
    )
