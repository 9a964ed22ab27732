"""Carrying out an expiry plan: the lifecycle's only DELETEs.

Expiry deletes by digest, which takes every tag on it, one digest at a time in the order of
``deletion.deletion_steps`` (a referrer before its image, an index before its children); a DELETE
is sent only once all before it went, so one that failed or was skipped keeps what comes after
it. Just before each DELETE the tags are read again (listed, each HEADed, listed once more), and
the digest is skipped if a tag, an index or a referrer the plan did not see is now on it or on
what it is part of or about (a promotion meanwhile, say), or if a history tag on it is, among the
tags read now, one that keeps its digest (``retention``). Between that read and the DELETE is a
window nothing closes: the distribution API has no conditional DELETE (docs/commands/expire.md,
"The window left"). A DELETE not answered 202 is checked: gone with its tags (the answer was
lost), still there, or gone with its tags left behind, which docker-registry does when a tag is
written meanwhile.

A stop (SIGINT, SIGTERM: ``interrupt``) is looked at before each DELETE; once it is requested,
none starts. An expiry stopped is as one whose next DELETE failed: by the order above nothing is
left broken (an image whose signature went before the stop is still expired, and the next run
deletes it), and the DELETEs not sent are ``not-started``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tagmgr.errors import TagmgrError
from tagmgr.lifecycle.deletion import DeletionStep, deletion_steps
from tagmgr.lifecycle.expiry import RepositoryPlan
from tagmgr.lifecycle.holdings import Holdings, referrer_subject
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.lifecycle.survey import manifest_links, tag_digests
from tagmgr.registry import Registries, RegistryClient
from tagmgr.system import interrupt

DONE = frozenset({"deleted", "gone"})
NOT_STARTED = "not-started"
RunResults = Mapping[str, Mapping[str, str]]
"""A run's results by repository (``registry/repository``), then by digest: one digest held in
two repositories is two deletions, each with its own result."""


def delete(
    plan: RepositoryPlan, registries: Registries, *, stop: Callable[[], bool] = interrupt.requested
) -> dict[str, str]:
    """Digest -> deleted, gone (not there when deleted), skipped: why, failed: why, or
    not-started (asked to stop before its DELETE)."""
    repository = _Repository(registries.client(plan.holdings.registry), plan)
    results: dict[str, str] = {}
    for step in deletion_steps(plan):
        results[step.digest] = NOT_STARTED if stop() else _carry_out(step, repository, results)
    return results


def _carry_out(step: DeletionStep, repository: _Repository, results: Mapping[str, str]) -> str:
    waiting = [d for d in step.after if results.get(d) not in DONE]
    if waiting:
        return f"skipped: {', '.join(map(_short, waiting))} had to go first and did not"
    try:
        now = repository.now()
    except TagmgrError as error:
        return f"failed: reading the tags again: {error}"
    found = objections(step, repository.holdings, now, repository.window)
    if found:
        unsigned = _deleted_referrers(step)
        return f"skipped: {'; '.join(found)} since the plan{unsigned}"
    return repository.delete(step.digest, now)


@dataclass(frozen=True)
class Now:
    """What a repository holds as read just before a DELETE."""

    tags: Mapping[str, str]  # tag -> digest
    links: Mapping[str, tuple[str, ...]]  # digests the plan did not know -> the digests they name


def objections(
    step: DeletionStep, holdings: Holdings, now: Now, window: HistoryWindow
) -> list[str]:
    """Why ``step``'s DELETE must not be sent: on a digest it watches, a tag the plan did not see
    (an environment or history tag among them), a history tag that keeps its digest among the
    tags as read now, or an index or a referrer pushed since. A history tag beyond ``window``,
    which the plan saw, is no objection: that is what the window is for."""
    unseen = {
        tag: digest
        for tag, digest in sorted(now.tags.items())
        if digest not in holdings.images or tag not in holdings.images[digest].tags
    }
    kept = _kept_history(step, now, window, unseen)
    return _tagged(step, unseen) + kept + _naming(step, unseen, now.links)


def _kept_history(
    step: DeletionStep, now: Now, window: HistoryWindow, unseen: Mapping[str, str]
) -> list[str]:
    """History tags the plan saw beyond the window that are within it now (newer entries of
    their environment deleted since, say); one the plan did not see is ``_tagged`` already."""
    return [
        f"{'' if digest == step.digest else _short(digest) + ' '}tag {tag} is {why}"
        for tag, why in sorted(window.kept(now.tags).items())
        if (digest := now.tags[tag]) in step.watch and tag not in unseen
    ]


def _tagged(step: DeletionStep, unseen: Mapping[str, str]) -> list[str]:
    gained: dict[str, list[str]] = {}
    for tag, digest in unseen.items():
        if digest in step.watch:
            gained.setdefault(digest, []).append(tag)
    return [
        f"{'' if digest == step.digest else _short(digest) + ' '}tagged {', '.join(tags)}"
        for digest, tags in sorted(gained.items(), key=lambda item: item[0] != step.digest)
    ]


def _naming(
    step: DeletionStep, unseen: Mapping[str, str], links: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Referrer tags about a watched digest, and manifests new to the plan that name one."""
    found = []
    for tag, digest in unseen.items():
        about = referrer_subject(tag)
        if about in step.watch:
            found.append(f"{tag} refers to {_it(step, about)}")
        found += [
            f"{_short(digest)} ({tag}) names {_it(step, named)}"
            for named in sorted(set(step.watch).intersection(links.get(digest, ())))
        ]
    return list(dict.fromkeys(found))


def _deleted_referrers(step: DeletionStep) -> str:
    """What a skipped image lost before the skip: its signatures went first (``after``)."""
    if not step.referrers:
        return ""
    if len(step.referrers) == 1:
        return f"; its referrer {_short(step.referrers[0])} was deleted before that: sign it again"
    shown = ", ".join(map(_short, step.referrers))
    return f"; its referrers {shown} were deleted before that: sign it again"


class _Repository:
    """The repository being expired: read again before each DELETE, and deleted from."""

    def __init__(self, client: RegistryClient, plan: RepositoryPlan) -> None:
        self.client, self.holdings, self.window = client, plan.holdings, plan.window
        self.links: dict[str, tuple[str, ...]] = {}  # a manifest never changes: read once

    def now(self) -> Now:
        """The tags, each HEADed, then listed once more: a tag created while the HEADs ran (a
        promotion's history tag, written just after it moves the environment tag) is HEADed too."""
        name = self.holdings.repository
        tags = tag_digests(self.client, name, self.client.list_tags(name))
        created = set(self.client.list_tags(name)) - set(tags)
        tags.update(tag_digests(self.client, name, created))
        for digest in sorted(set(tags.values()) - set(self.holdings.images) - set(self.links)):
            self.links[digest] = manifest_links(self.client, name, digest)
        return Now(tags, self.links)

    def delete(self, digest: str, now: Now) -> str:
        try:
            if self.client.delete_manifest(self.holdings.repository, digest):
                return "deleted"
            answer = "gone"
        except TagmgrError as error:
            answer = f"failed: {error}"
        return self._carried_out(digest, now, answer)

    def _carried_out(self, digest: str, now: Now, answer: str) -> str:
        """After a DELETE not answered 202: gone if the registry carried it out (a lost answer),
        and whole, that is, without leaving the tags it had listed (docs/commands/expire.md).
        A 404 counts as gone only once the registry is seen not to hold the digest, since what
        waits on this DELETE (an index's children) goes after it."""
        name = self.holdings.repository
        had = {tag for tag, at in now.tags.items() if at == digest}
        try:
            if self.client.head_manifest(name, digest) is not None:
                return _unconfirmed(answer, "yet the registry still holds it")
            left = sorted(had.intersection(self.client.list_tags(name)))
        except TagmgrError as error:
            return _unconfirmed(
                answer, f"and asking whether the registry still holds it failed: {error}"
            )
        if left:
            return (
                f"failed: deleted, but the registry left its tags {', '.join(left)} listed,"
                " pointing at nothing (a tag written in the repository at that moment broke its"
                " clean-up): they do not pull"
            )
        return "gone"


def _unconfirmed(answer: str, why: str) -> str:
    """A DELETE's own failure as it was; a 404 that could not be confirmed is a failure too."""
    return f"failed: DELETE answered 404, {why}" if answer == "gone" else answer


def _it(step: DeletionStep, digest: str | None) -> str:
    return "it" if digest == step.digest else _short(str(digest))


def _short(digest: str) -> str:
    return digest[:19]
