"""The order of an expiry plan's deletions, pure: each DELETE with what must go before it and what
must not have changed since the plan for it to be sent (``execute_expiry.delete`` checks both)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tagmgr.lifecycle.expiry import RepositoryPlan
from tagmgr.lifecycle.holdings import Holdings


@dataclass(frozen=True)
class DeletionStep:
    """One DELETE: sent once every digest of ``after`` is gone, and only while no tag, index or
    referrer that the plan did not see is on a digest of ``watch`` (this one, and what it is part
    of or about, on up)."""

    digest: str
    parents: tuple[str, ...]  # the indexes holding it that are deleted too
    referrers: tuple[str, ...]  # the referrers deleted with it, its children's too
    watch: tuple[str, ...]

    @property
    def after(self) -> tuple[str, ...]:
        return self.parents + self.referrers


def deletion_steps(plan: RepositoryPlan) -> list[DeletionStep]:
    """The plan's deletions in the order to send them, so that a DELETE that fails leaves every
    manifest whole and visible to the next run, which finishes the job.

    - An index goes before its children: if its DELETE fails, they stay with it. (A child whose
      DELETE fails after its index went is an untagged manifest nothing names; the registry's
      garbage collection takes it.)
    - A referrer (a signature) goes before what it refers to, and before the indexes that hold
      that: if its DELETE fails, all it needs stays. Deleted the other way round, a signature
      could outlive its image, and one of a child would seem to be about nothing once the index
      went: no later run would ever delete it. A failure after the signature went leaves its
      image unsigned but still expired, and the next run deletes it.
    """
    links = _Links.of(plan.holdings)
    deleting = {decision.held.digest for decision in plan.deletions}
    parents = {d: links.parents_of(d) & deleting - {d} for d in deleting}
    referrers = {d: links.referrers_below(d) & deleting - {d} for d in deleting}
    return [
        DeletionStep(
            digest,
            tuple(sorted(parents[digest])),
            tuple(sorted(referrers[digest])),
            tuple(sorted(links.above(digest))),
        )
        for digest in _in_order({d: parents[d] | referrers[d] for d in deleting})
    ]


@dataclass(frozen=True)
class _Links:
    """Which manifests name which, both ways."""

    children: dict[str, set[str]] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=dict)
    referrers: dict[str, set[str]] = field(default_factory=dict)
    up: dict[str, set[str]] = field(default_factory=dict)  # its indexes, what it refers to

    @classmethod
    def of(cls, holdings: Holdings) -> _Links:
        links = cls()
        for digest, held in holdings.images.items():
            for child in held.children:
                links.children.setdefault(digest, set()).add(child)
                links.parents.setdefault(child, set()).add(digest)
                links.up.setdefault(child, set()).add(digest)
            if held.subject is not None:
                links.referrers.setdefault(held.subject, set()).add(digest)
                links.up.setdefault(digest, set()).add(held.subject)
        return links

    def parents_of(self, digest: str) -> set[str]:
        return self.parents.get(digest, set())

    def referrers_below(self, digest: str) -> set[str]:
        """The referrers of ``digest`` and of its children, their children, and so on."""
        below = _closure(digest, self.children)
        return {r for d in below for r in self.referrers.get(d, set())}

    def above(self, digest: str) -> set[str]:
        """``digest``, the indexes that hold it, what it refers to, and so on up."""
        return _closure(digest, self.up)


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    found, todo = {start}, [start]
    while todo:
        for other in edges.get(todo.pop(), set()) - found:
            found.add(other)
            todo.append(other)
    return found


def _in_order(waits: dict[str, set[str]]) -> list[str]:
    """Each digest after all it waits on, depth first: what a DELETE frees comes right after it,
    so that little time passes between a signature's DELETE and its image's. Digests that wait
    on each other (a cycle) come last; the executor skips them, as what they wait on never went."""
    dependents = {d: sorted(o for o, w in waits.items() if d in w) for d in waits}
    remaining = {d: len(w) for d, w in waits.items()}
    ready = sorted((d for d, n in remaining.items() if not n), reverse=True)
    order: list[str] = []
    while ready:
        digest = ready.pop()
        order.append(digest)
        for other in reversed(dependents[digest]):
            remaining[other] -= 1
            if not remaining[other]:
                ready.append(other)
    return order + sorted(set(waits) - set(order))
