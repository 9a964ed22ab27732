"""Version strings for upstream commits: ``git describe``, made reproducible.

The rule, for a commit C and an optional glob ``match`` (docs/concepts/derived-tags.md,
"The describe rule"):

* Tags are lightweight and annotated alike (``--tags``), filtered by ``match`` (``--match``).
* The tag is git describe's choice, with ``--candidates=27``, the most git 2.39 accepts, pinned so
  that a git with a higher limit walks the same way. git walks back from C, newest commit date
  first, and keeps the first 27 tags it meets; with no 28th, the one with the fewest commits in
  ``git log TAG..C`` wins, equal counts going to the one met first; at a 28th it stops and ranks
  the 27 by the commits counted so far, which need not give the nearest. Among tags on one
  commit, annotated beats lightweight, then the newer tagger date, then the name that sorts first.
* The result is ``TAG`` when C itself carries the tag, else ``TAG-N-gHHHHHHH``: N commits since
  the tag and always exactly 7 hex digits of C, cut from ``--long --abbrev=40`` output, so it does
  not widen as the repository grows. A ``/`` in TAG, which no image tag may hold, becomes ``-``.
* History is always complete (shallow clones are deepened or refused), so the string depends only
  on C's ancestry and the upstream's tags. Those are the tags of the clone's last fetch, made only
  when a commit is missing: ``describe --write`` is what pins a result for good.

Every commit asked of one repository with one ``match`` is described by one ``git describe``.
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
# --always: a commit no tag describes gets its hash instead of ending the run there.
_DESCRIBE = (
    "describe",
    "--tags",
    "--long",
    "--always",
    "--abbrev=40",
    f"--candidates={CANDIDATES}",
)
_PER_CALL = 1000  # commits on one git command line: 41 KiB, far below any system's limit
_COMMIT = re.compile(r"[0-9a-f]{4,64}")
_LONG_OUTPUT = re.compile(r"(?P<tag>.+)-(?P<depth>[0-9]+)-g[0-9a-f]+")

Item = tuple[Upstream, Path]
DescribeResult = str | GitVersionError  # a version, or why a commit has none


class GitVersioner:
    """Describes upstream commits from a clone cache; distinct repositories in parallel."""

    def __init__(self, cache_dir: Path, *, jobs: int = 4, timeout: float = 300) -> None:
        self.cache = GitCache(cache_dir, timeout=timeout)
        self.jobs = jobs

    def describe_all(self, upstreams: Sequence[Item]) -> dict[Item, DescribeResult]:
        """Describe every ``(upstream, manifest_dir)``; a failure is that item's error value."""
        items = list(dict.fromkeys(upstreams))  # each distinct item once, in order
        results: dict[Item, DescribeResult] = {}
        groups: dict[str, tuple[RepoSource, list[Item]]] = {}
        for item in items:
            upstream, base_dir = item
            if not _COMMIT.fullmatch(upstream.commit):
                results[item] = _error(upstream, "commit must be 4 to 64 lowercase hex digits")
                continue
            try:
                source = RepoSource.parse(upstream.repo, base_dir)
            except ValueError as error:  # a URL urllib cannot read: "https://[host/x"
                results[item] = _error(upstream, f"repo is not a URL git can use: {error}")
                continue
            groups.setdefault(source.key, (source, []))[1].append(item)
        parts = map_in_threads(lambda group: self.describe_repo(*group), groups.values(), self.jobs)
        for part in parts:
            results.update(part)
        return {item: results[item] for item in items}

    def describe_repo(
        self, source: RepoSource, items: Sequence[Item]
    ) -> dict[Item, DescribeResult]:
        """Describe items that share one upstream repository in its locked clone.

        After a stop request (Ctrl-C, SIGTERM) no repository's git starts."""
        if interrupt.requested():
            stopped = "not described: tagmgr was asked to stop"
            return {item: _error(item[0], stopped) for item in items}
        commits = {upstream.commit for upstream, _ in items}
        try:
            with self.cache.clone(source, commits) as clone:
                return _describe_items(clone, items)
        except GitVersionError as exc:
            return {item: _error(item[0], str(exc)) for item in items}


def _describe_items(clone: Clone, items: Sequence[Item]) -> dict[Item, DescribeResult]:
    """One ``git describe`` for all commits of each ``match``; each item gets its commit's."""
    shas: dict[Upstream, str] = {}
    outcomes: dict[Upstream, DescribeResult] = {}
    for upstream in dict.fromkeys(upstream for upstream, _ in items):
        try:
            shas[upstream] = resolve_commit(clone, upstream.commit)
        except GitVersionError as exc:
            outcomes[upstream] = _error(upstream, str(exc))
    for match in dict.fromkeys(upstream.match for upstream in shas):
        wanted = [upstream for upstream in shas if upstream.match == match]
        described = describe_commits(clone.repo, [shas[u] for u in wanted], match)
        for upstream in wanted:
            outcome = described[shas[upstream]]
            failed = isinstance(outcome, GitVersionError)
            outcomes[upstream] = _error(upstream, str(outcome)) if failed else outcome
    return {item: outcomes[item[0]] for item in items}


def resolve_commit(clone: Clone, commit: str) -> str:
    """The full hash of ``commit``; raise if it is missing or ambiguous."""
    if found := clone.commits.get(commit):
        return found
    count = _count_commitish(clone.repo, commit)
    if count > 1:
        raise GitVersionError(
            f"{count} commits or tags start with {commit!r}; write more digits of the hash"
        )
    if clone.fetch_error:
        raise GitVersionError(clone.fetch_error)
    how = " and asked for the hash itself" if FULL_SHA.fullmatch(commit) else ""
    raise GitVersionError(f"no such commit upstream (fetched all branches and tags{how})")


def describe_commits(
    repo: BareRepo, shas: Sequence[str], match: str | None
) -> dict[str, DescribeResult]:
    """Apply the describe rule (see the module docstring) to each full hash in ``shas``."""
    pattern = (f"--match={match}",) if match else ()
    unique = list(dict.fromkeys(shas))
    results: dict[str, DescribeResult] = {}
    for start in range(0, len(unique), _PER_CALL):
        batch = unique[start : start + _PER_CALL]
        result = repo.run(*_DESCRIBE, *pattern, *batch)
        if result.status != 0:
            raise GitVersionError(f"git describe failed: {complaint(result.stderr)}")
        found = zip(batch, result.stdout.splitlines(), strict=True)
        results.update((sha, _version(sha, line, match)) for sha, line in found)
    return results


def _version(sha: str, line: str, match: str | None) -> DescribeResult:
    parsed = _LONG_OUTPUT.fullmatch(line)
    if parsed is None and line and sha.startswith(line):  # --always: no tag describes it
        matching = f" matching {match!r}" if match else ""
        return GitVersionError(
            f"no tag{matching} is reachable from this commit (no tagged ancestor)"
        )
    if parsed is None:
        return GitVersionError(f"unexpected git describe output {line!r}")
    tag = parsed["tag"].replace("/", "-")
    depth = int(parsed["depth"])
    return tag if depth == 0 else f"{tag}-{depth}-g{sha[:HASH_WIDTH]}"


def _count_commitish(repo: BareRepo, prefix: str) -> int:
    """How many commits and tag objects have hashes starting with ``prefix``."""
    names = repo.run("rev-parse", f"--disambiguate={prefix}").stdout.split()
    if len(names) < 2:
        return len(names)
    types = repo.run("cat-file", "--batch-check=%(objecttype)", stdin="\n".join(names) + "\n")
    return sum(kind in {"commit", "tag"} for kind in types.stdout.split())


def _error(upstream: Upstream, reason: str) -> GitVersionError:
    return GitVersionError(
        f"upstream {redact_url(upstream.repo)} commit {upstream.commit}: {reason}"
    )
