"""A cache of bare upstream clones, one per repository, fetched only when a commit is missing.

Layout of the cache directory::

    <root>/<slug>-<hash>/       bare clone (slug: readable tail of the URL; hash: of the URL)
    <root>/<slug>-<hash>.lock   fcntl lock held while one tagmgr process uses that clone

Git runs through ``barerepo.BareRepo``: non-interactively, with allow-listed transports and a time
limit, and reaching the upstream only to fetch.

A clone is partial where the server allows it: ``git describe`` reads commits and tags only, so
every fetch asks for no trees and no blobs (``--filter=tree:0``), as GitHub, GitLab and Gerrit
serve. That is megabytes instead of gigabytes for the largest upstreams, and it works against a
mirror that lacks some blobs. A server without filters (``uploadpack.allowFilter`` unset) makes
git warn and send everything, as before. A cache cloned in full keeps its objects; git registers
the upstream as a promisor on the first filtered fetch, and later fetches bring commits and tags.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

from tagmgr.errors import GitVersionError
from tagmgr.git.barerepo import BareRepo, complaint, redact_url

FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# --update-shallow: take what a shallow upstream offers, so that its shallowness is seen and named.
# --filter=tree:0: commits and tags only, all that describe reads (see the module docstring).
_FETCH = ("--quiet", "--force", "--update-shallow", "--filter=tree:0")
# Branches and tags, forced; the tags refspec is what --tags means, but unlike --tags it is pruned.
_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_PINNED = "refs/tagmgr/commits/"
_THREAD_LOCKS: dict[Path, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/tagmgr/git``; ``~/.cache/tagmgr/git`` if it is unset, empty or relative."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "tagmgr" / "git"


@dataclass(frozen=True)
class RepoSource:
    """An upstream repository: ``key`` names its clone, ``location`` is what git fetches."""

    key: str
    location: str

    @classmethod
    def parse(cls, repo: str, base_dir: Path) -> RepoSource:
        """Read a URL, a ``file://`` URL or a path (relative to ``base_dir``)."""
        if repo.startswith("file://"):
            return cls(str(Path(unquote(urlsplit(repo).path)).resolve()), repo)
        if "://" in repo:
            url = urlsplit(repo)
            path = url.path.rstrip("/").removesuffix(".git")
            return cls(f"{url.scheme.lower()}://{url.netloc.lower()}{path}", repo)
        host, colon, path = repo.partition(":")
        if colon and "/" not in host:  # git's scp-like syntax: [user@]host:path
            return cls(f"{host.lower()}:{path.rstrip('/').removesuffix('.git')}", repo)
        local = str((base_dir / Path(repo).expanduser()).resolve())
        return cls(local, local)

    @property
    def dir_name(self) -> str:
        readable = re.sub(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^/@]*@)?", "", self.key)
        slug = re.sub(r"[^A-Za-z0-9._]+", "-", readable)[-64:].strip("-.")
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:12]
        return f"{slug}-{digest}"


@dataclass(frozen=True)
class Clone:
    """A locked, complete clone, the full hash of each commit asked for that it holds, and why a
    needed fetch failed, if it did."""

    repo: BareRepo
    commits: Mapping[str, str]
    fetch_error: str | None


class GitCache:
    """One bare clone per upstream, shared by every entry and every tagmgr process."""

    def __init__(self, root: Path, *, timeout: float = 300) -> None:
        self.root = root.absolute()  # one place for GIT_DIR and messages, wherever git runs
        self._timeout = timeout

    def path_for(self, source: RepoSource) -> Path:
        return self.root / source.dir_name

    @contextmanager
    def clone(self, source: RepoSource, commits: Collection[str]) -> Iterator[Clone]:
        """Lock the clone of ``source``, bring in ``commits`` and full history, and yield it."""
        path = self.path_for(source)
        with self._locked(path):
            repo = BareRepo(path, self._timeout)
            if not (path / "HEAD").is_file():
                repo.output("init", "--bare", "--quiet")
            _complete_history(repo, source)
            found = repo.find_commits(commits)
            fetch_error = None
            if missing := [commit for commit in commits if commit not in found]:
                fetch_error = _fetch_missing(repo, source, missing)
                _complete_history(repo, source)
                found = repo.find_commits(commits)
            yield Clone(repo, found, fetch_error)

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        with _THREAD_LOCKS_GUARD:
            thread_lock = _THREAD_LOCKS.setdefault(path, threading.Lock())
        with thread_lock, self._open_lock_file(path) as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _open_lock_file(self, path: Path) -> TextIO:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return path.with_name(path.name + ".lock").open("a")
        except OSError as exc:
            raise GitVersionError(f"cannot use the git cache {self.root}: {exc.strerror}") from exc


def _fetch(
    repo: BareRepo, source: RepoSource, *options: str, refspecs: tuple[str, ...]
) -> str | None:
    """Fetch ``refspecs`` from ``source``; return why it failed (its time limit too), or None."""
    failed = f"cannot fetch from {redact_url(source.location)}"
    try:
        result = repo.fetch(*_FETCH, *options, "--", source.location, *refspecs)
    except GitVersionError as exc:
        return f"{failed}: {exc}"
    return None if result.status == 0 else f"{failed}: {complaint(result.stderr)}"


def _fetch_missing(repo: BareRepo, source: RepoSource, missing: Sequence[str]) -> str | None:
    """Fetch branches and tags, then the full shas still missing one by one."""
    error = _fetch(repo, source, "--prune", refspecs=_REFSPECS)
    if error:
        return error  # the full-sha fetches below would only fail the same way
    full = [commit for commit in missing if FULL_SHA.fullmatch(commit)]
    held = repo.find_commits(full) if full else {}
    for commit in full:
        if commit not in held:
            # Not on a branch or tag (a Gerrit change, a pull request): ask for it by name and
            # keep it under refs/tagmgr/ so that gc never drops it.
            _fetch(repo, source, refspecs=(f"{commit}:{_PINNED}{commit}",))
    return None


def _complete_history(repo: BareRepo, source: RepoSource) -> None:
    """Describe counts commits, so a shallow clone must be deepened or refused."""
    if not repo.is_shallow:
        return
    error = _fetch(repo, source, "--unshallow", refspecs=_REFSPECS)
    if error:
        raise GitVersionError(f"the cached clone is shallow and {error}")
    if repo.is_shallow:
        raise GitVersionError(
            f"{redact_url(source.location)} is itself a shallow clone and cannot give the full"
            " history that describe needs; point upstream.repo at a complete repository"
        )
