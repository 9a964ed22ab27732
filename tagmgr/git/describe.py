"""Version strings for upstream commits: ``git describe``, made reproducible.

The rule, for a commit C and an optional glob ``match``:

* Tags are lightweight and annotated alike (``--tags``), filtered by ``match`` (``--match``).
* The tag is git describe's choice: the one with the fewest commits in ``git log TAG..C``. Its
  search keeps ``--candidates=27`` tags, the most git 2.39 accepts, pinned so that a git with a
  higher limit walks the same way. Equal distances go to the tag the date-ordered walk meets
  first; among tags on one commit, annotated beats lightweight, then the newer tagger date, then
  the name that sorts first.
* The result is ``TAG`` when C itself carries the tag, else ``TAG-N-gHHHHHHH``: N commits since
  the tag and always exactly 7 hex digits of C, cut from ``--long --abbrev=40`` output, so it does
  not widen as the repository grows.
* History is always complete (shallow clones are deepened or refused), so the string depends only
  on C's ancestry and the upstream's tags. Those are the tags of the clone's last fetch, made only
  when a commit is missing: ``describe --write`` is what pins a result for good.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from tagmgr.errors import GitVersionError
from tagmgr.git.barerepo import BareRepo, complaint, redact_url
from tagmgr.git.cache import FULL_SHA, Clone, GitCache, RepoSource
from tagmgr.manifest.model import Upstream
from tagmgr.system import interrupt
from tagmgr.system.concurrency import map_in_threads

HASH_WIDTH = 7
CANDIDATES = 27  # git's MAX_TAGS; a larger --candidates is silently clamped to it
_COMMIT = re.compile(r"[0-9a-f]{4,64}")
_LONG_OUTPUT = re.compile(r"(?P<tag>.+)-(?P<depth>[0-9]+)-g[0-9a-f]+")

Item = tuple[Upstream, Path]
Outcome = str | GitVersionError


class GitVersioner:
    """Describes upstream commits from a clone cache; distinct repositories in parallel."""

    def __init__(self, cache_dir: Path, *, jobs: int = 4, timeout: float = 300) -> None:
        self.cache = GitCache(cache_dir, timeout=timeout)
        self.jobs = jobs

    def describe_all(self, upstreams: Sequence[Item]) -> dict[Item, Outcome]:
        """Describe every ``(upstream, manifest_dir)``; a failure is that item's error value."""
        items = list(dict.fromkeys(upstreams))  # each distinct item once, in order
        results: dict[Item, Outcome] = {}
        groups: dict[str, tuple[RepoSource, list[Item]]] = {}
        for item in items:
            upstream, base_dir = item
            if not _COMMIT.fullmatch(upstream.commit):
                results[item] = _error(upstream, "commit must be 4 to 64 lowercase hex digits")
                continue
            source = RepoSource.parse(upstream.repo, base_dir)
            groups.setdefault(source.key, (source, []))[1].append(item)
        parts = map_in_threads(lambda group: self.describe_repo(*group), groups.values(), self.jobs)
        for part in parts:
            results.update(part)
        return {item: results[item] for item in items}

    def describe_repo(self, source: RepoSource, items: Sequence[Item]) -> dict[Item, Outcome]:
        """Describe items that share one upstream repository, serially, in its locked clone.

        After a stop request (Ctrl-C, SIGTERM) no repository's git starts."""
        if interrupt.requested():
            stopped = "not described: tagmgr was asked to stop"
            return {item: _error(item[0], stopped) for item in items}
        commits = {upstream.commit for upstream, _ in items}
        try:
            with self.cache.clone(source, commits) as clone:
                return {item: _describe_item(clone, item[0]) for item in items}
        except GitVersionError as exc:
            return {item: _error(item[0], str(exc)) for item in items}


def resolve_commit(clone: Clone, commit: str) -> str:
    """The full hash of ``commit``; raise if it is missing or ambiguous."""
    found = clone.repo.run("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if found.status == 0:
        return found.stdout.strip()
    count = _count_commitish(clone.repo, commit)
    if count > 1:
        raise GitVersionError(
            f"{count} commits or tags start with {commit!r}; write more digits of the hash"
        )
    if clone.fetch_error:
        raise GitVersionError(clone.fetch_error)
    how = " and asked for the hash itself" if FULL_SHA.fullmatch(commit) else ""
    raise GitVersionError(f"no such commit upstream (fetched all branches and tags{how})")


def describe_commit(repo: BareRepo, sha: str, match: str | None = None) -> str:
    """Apply the describe rule (see the module docstring) to the full hash ``sha``."""
    pattern = (f"--match={match}",) if match else ()
    args = ("describe", "--tags", "--long", "--abbrev=40", f"--candidates={CANDIDATES}", *pattern)
    result = repo.run(*args, sha)
    if result.status != 0:
        raise GitVersionError(_why_undescribable(repo, sha, match, result.stderr))
    parsed = _LONG_OUTPUT.fullmatch(result.stdout.strip())
    if not parsed:
        raise GitVersionError(f"unexpected git describe output {result.stdout.strip()!r}")
    depth = int(parsed["depth"])
    return parsed["tag"] if depth == 0 else f"{parsed['tag']}-{depth}-g{sha[:HASH_WIDTH]}"


def _describe_item(clone: Clone, upstream: Upstream) -> Outcome:
    try:
        sha = resolve_commit(clone, upstream.commit)
        return describe_commit(clone.repo, sha, upstream.match)
    except GitVersionError as exc:
        return _error(upstream, str(exc))


def _count_commitish(repo: BareRepo, prefix: str) -> int:
    """How many commits and tag objects have hashes starting with ``prefix``."""
    names = repo.run("rev-parse", f"--disambiguate={prefix}").stdout.split()
    if len(names) < 2:
        return len(names)
    types = repo.run("cat-file", "--batch-check=%(objecttype)", stdin="\n".join(names) + "\n")
    return sum(kind in {"commit", "tag"} for kind in types.stdout.split())


def _why_undescribable(repo: BareRepo, sha: str, match: str | None, stderr: str) -> str:
    tags = repo.run("tag", "--list", "--merged", sha, "--", *([match] if match else []))
    if tags.status == 0 and not tags.stdout.strip():
        matching = f" matching {match!r}" if match else ""
        return f"no tag{matching} is reachable from this commit (no tagged ancestor)"
    return f"git describe failed: {complaint(stderr)}"


def _error(upstream: Upstream, reason: str) -> GitVersionError:
    return GitVersionError(
        f"upstream {redact_url(upstream.repo)} commit {upstream.commit}: {reason}"
    )
