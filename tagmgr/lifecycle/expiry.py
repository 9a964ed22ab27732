"""The expiry planner, pure: a policy, what a repository holds and what is in use in, a decision
with its reasons for every manifest out.

The policy's rules pick images, as ECR would (``policy``): an image is picked by at most one rule,
and never by a rule below one that selects it; an image a rule would pick but a higher rule shields
says both. Then nothing in use is deleted:
environment tags, the history tags ``retention`` keeps (all of them unless ``Limits.keep_history``
says how many), whatever an in-use source names by digest or by tag, anything newer than the grace
period or without a known time. An index is kept with any kept child and its
children with it; referrers (signatures) stay while what they refer to stays, and go with it.
A digest is deleted with every tag on it (the distribution API knows no other way), so a digest
is deleted only when none of its tags is kept. ``deletion.deletion_steps`` orders the deletions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from tagmgr import exitcodes
from tagmgr.lifecycle.holdings import Held, Holdings, ImageTime
from tagmgr.lifecycle.inuse import InUseSet
from tagmgr.lifecycle.policy import CountType, Policy, Rule, TagStatus
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.manifest.environments import Chain, parse_history_tag

MAX_USES_SHOWN = 3


class ExpiryVerdict(StrEnum):
    DELETE = "delete"
    KEEP = "keep"


@dataclass(frozen=True)
class Limits:
    now: datetime
    keep_newer_than: timedelta = timedelta(days=7)
    max_delete_share: float = 0.5
    keep_history: int | None = None  # history entries kept per environment; None: all


@dataclass(frozen=True)
class ExpiryDecision:
    held: Held
    time: ImageTime
    verdict: ExpiryVerdict
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RepositoryPlan:
    holdings: Holdings
    decisions: tuple[ExpiryDecision, ...]
    window: HistoryWindow  # the history tags that keep their digest, asked again before a DELETE
    refusal: str | None = None  # set when the plan deletes more than the allowed share

    @property
    def deletions(self) -> list[ExpiryDecision]:
        return [d for d in self.decisions if d.verdict is ExpiryVerdict.DELETE]


def expiry_exit_code(plans: Sequence[RepositoryPlan]) -> int:
    if any(plan.refusal or plan.holdings.problems for plan in plans):
        return exitcodes.FAILURE
    pending = any(plan.deletions for plan in plans)
    return exitcodes.CHANGES_PENDING if pending else exitcodes.OK


def untagged_notes(policy: Policy) -> list[str]:
    """What each rule for untagged images does here, said every run: nothing, and what to use."""
    return [
        f"{rule.location}: {rule.label} selects untagged images, and tagmgr sees none: the"
        " distribution API lists tags, not manifests, so an untagged manifest is seen only as"
        " the child of a tagged index (and goes with it). Delete untagged manifests with the"
        " registry's own garbage collection, with it stopped or read-only:"
        " docker-registry garbage-collect --delete-untagged CONFIG"
        for rule in policy.rules
        if rule.tag_status is TagStatus.UNTAGGED
    ]


def plan_expiry(
    policy: Policy, holdings: Holdings, in_use: InUseSet, chain: Chain, limits: Limits
) -> RepositoryPlan:
    planner = _Planner(holdings, chain, limits, HistoryWindow(chain, limits.keep_history))
    planner.apply_rules(policy.rules)
    planner.protect(in_use)
    planner.spread()
    return planner.plan(limits.max_delete_share)


@dataclass
class _Planner:
    holdings: Holdings
    chain: Chain
    limits: Limits
    window: HistoryWindow
    marked: dict[str, str] = field(default_factory=dict)
    shielded: dict[str, tuple[str, Rule]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    deleting: dict[str, list[str]] = field(default_factory=dict)
    released: dict[str, list[str]] = field(default_factory=dict)  # history tags beyond the window

    def time(self, digest: str) -> ImageTime:
        return self.holdings.images[digest].time(self.chain)

    def top_level(self) -> list[Held]:
        """Images rules count: not an untagged child of an index, not a referrer (those follow
        what holds them). A child with tags of its own is an image of its own too."""
        children = {c for held in self.holdings.images.values() for c in held.children}
        return [
            held
            for digest, held in sorted(self.holdings.images.items())
            if (held.tags or digest not in children) and held.subject not in self.holdings.images
        ]

    def apply_rules(self, rules: Sequence[Rule]) -> None:
        """Each image goes by the first rule that selects it, or not at all: a lower rule that
        would expire it is remembered, to say why it stays."""
        claimed: dict[str, Rule] = {}
        images = self.top_level()
        for rule in rules:
            selected = [held for held in images if rule.selects(held.tags)]
            for held, reason in self.expired_by(rule, selected):
                first = claimed.get(held.digest)
                if first is None:
                    self.marked.setdefault(held.digest, reason)
                else:
                    self.shielded.setdefault(held.digest, (reason, first))
            for held in selected:
                claimed.setdefault(held.digest, rule)

    def expired_by(self, rule: Rule, selected: list[Held]) -> list[tuple[Held, str]]:
        timed = [(when, held) for held in selected if (when := self.time(held.digest).when)]
        if rule.count_type is CountType.IMAGE_COUNT_MORE_THAN:
            # Images without a time count as the newest: they are never the ones to go.
            newest_first = [held for _, held in sorted(timed, key=lambda t: t[0], reverse=True)]
            keep = max(rule.count_number - (len(selected) - len(timed)), 0)
            reason = (
                f"{rule.label}: {len(selected)} images match and the newest"
                f" {rule.count_number} are kept"
            )
            return [(held, reason) for held in newest_first[keep:]]
        cutoff = self.limits.now - timedelta(days=rule.count_number)
        reason = f"{rule.label}: older than {rule.count_number} days"
        return [(held, reason) for when, held in timed if when < cutoff]

    def protect(self, in_use: InUseSet) -> None:
        registry, repository = self.holdings.registry, self.holdings.repository
        grace = self.limits.now - self.limits.keep_newer_than
        top_level = {held.digest for held in self.top_level()}
        tags = {tag: d for d, held in self.holdings.images.items() for tag in held.tags}
        history = self.window.kept(tags)
        for digest, held in self.holdings.images.items():
            reasons = self.kept.setdefault(digest, [])
            for tag in held.tags:
                if tag in self.chain:
                    reasons.append(f"tag {tag} is an environment tag")
                elif tag in history:
                    reasons.append(f"tag {tag} is {history[tag]}")
                elif parse_history_tag(tag, self.chain):
                    self.released.setdefault(digest, []).append(tag)
                reasons += [
                    f"tag {tag} in use: {use.where}"
                    for use in in_use.uses_of_tag(registry, repository, tag)
                ][:MAX_USES_SHOWN]
            uses = in_use.uses_of_digest(registry, repository, digest)
            reasons += [f"in use: {use.where}" for use in uses][:MAX_USES_SHOWN]
            when = held.time(self.chain).when
            if digest not in top_level:
                continue  # children and referrers go with what holds them, whatever their time
            if when is None:
                reasons.append("no known time to order it by")
            elif when > grace:
                reasons.append(
                    f"newer than the grace period ({_days(self.limits.keep_newer_than)})"
                )

    def spread(self) -> None:
        """Deletions reach children and referrers; a kept index, child, subject or referrer holds
        them back.

        Repeated until nothing changes: keeping one child keeps its index, which keeps its other
        children, and so on. What is held back is asked only once the deletions have reached
        everything they reach (a child's signature, an index's index's children): asked before,
        a part not yet reached would look kept and hold back what it is part of.
        """
        self.deleting = {d: [reason] for d, reason in self.marked.items() if not self.kept[d]}
        changed = True
        while changed:
            changed = False
            while self.reach():
                pass
            for digest in list(self.deleting):
                holder = self.holder(digest)
                if holder:
                    del self.deleting[digest]
                    self.kept[digest].append(holder)
                    changed = True

    def reach(self) -> bool:
        """One step of the deletions to the children and referrers of what goes; True if any."""
        images = self.holdings.images
        reached = False
        for digest in list(self.deleting):
            for child in images[digest].children:
                if child in images and not images[child].tags:
                    reached |= self.delete_also(child, f"child of expired index {_short(digest)}")
            for referrer in self.holdings.referrers_of(digest):
                reached |= self.delete_also(referrer, f"refers to expired {_short(digest)}")
        return reached

    def delete_also(self, digest: str, reason: str) -> bool:
        if digest not in self.holdings.images or digest in self.deleting or self.kept[digest]:
            return False
        self.deleting[digest] = [reason]
        return True

    def holder(self, digest: str) -> str | None:
        """Why a digest on its way out must stay after all, or None."""
        images = self.holdings.images
        for parent in self.holdings.parents_of(digest):
            if parent not in self.deleting:
                return f"child of kept index {_short(parent)}"
        for child in images[digest].children:
            if child in images and child not in self.deleting:
                return f"index of kept child {_short(child)}"
        subject = images[digest].subject
        if subject is not None and subject in images and subject not in self.deleting:
            return f"refers to kept {_short(subject)}"
        for referrer in self.holdings.referrers_of(digest):
            if referrer not in self.deleting:  # in use, say: no signature of nothing is left
                return f"subject of kept {_short(referrer)}"
        return None

    def picked(self, digest: str) -> list[str]:
        """The rule that would expire a kept image, and the higher rule that shields it."""
        if digest in self.marked:
            return [f"{self.marked[digest]}, but kept"]
        if digest in self.shielded:
            reason, first = self.shielded[digest]
            return [
                f"{reason}, but kept",
                f"{first.label} selects it first and keeps it: an image goes only by the first"
                " rule that selects it",
            ]
        return []

    def beyond_window(self, digest: str) -> list[str]:
        """Why the history tags of a digest on its way out do not keep it."""
        released = self.released.get(digest)
        if not released:
            return []
        keep = self.window.keep
        return [f"beyond the newest {keep} history tags of each environment: {', '.join(released)}"]

    def plan(self, max_share: float) -> RepositoryPlan:
        decisions = []
        for digest, held in self.holdings.images.items():
            if digest in self.deleting:
                verdict = ExpiryVerdict.DELETE
                reasons = self.deleting[digest] + self.beyond_window(digest)
            else:
                verdict = ExpiryVerdict.KEEP
                reasons = self.picked(digest) + self.kept[digest] or ["no rule expires it"]
            decisions.append(ExpiryDecision(held, self.time(digest), verdict, tuple(reasons)))
        decisions.sort(key=_order)
        total, deleting = len(decisions), len(self.deleting)
        refusal = None
        if total and deleting / total > max_share:
            refusal = (
                f"{self.holdings.name}: the policy would delete {deleting} of {total} manifests,"
                f" more than --max-delete-share {max_share:.0%}; nothing was deleted"
            )
        return RepositoryPlan(self.holdings, tuple(decisions), self.window, refusal)


def _order(decision: ExpiryDecision) -> tuple[bool, datetime, str]:
    when = decision.time.when
    return (when is None, when or datetime.min, decision.held.digest)


def _short(digest: str) -> str:
    return digest[:19]


def _days(delta: timedelta) -> str:
    if delta.total_seconds() % 86400 == 0:
        return f"{delta.days}d"
    return f"{delta.total_seconds() / 3600:g}h"
