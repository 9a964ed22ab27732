"""The clone cache fetches commits and tags only where the server allows it, from a real
``git daemon`` on 127.0.0.1; describe results are the same either way (test_gitversion)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.git.barerepo import BareRepo
from tagmgr.git.cache import RepoSource
from tagmgr.git.describe import GitVersioner
from tagmgr.manifest.model import Upstream
from tests.support.gitrepos import GitDaemon, UpstreamRepo, isolate_git, objects

pytestmark = pytest.mark.slow  # git daemons, clones and fetches

ALL_KINDS = {"commit", "tag", "tree", "blob"}


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


@pytest.fixture
def served(tmp_path: Path) -> UpstreamRepo:
    """An upstream with files: v1.0 (annotated), two more commits, under tmp_path/srv."""
    repo = UpstreamRepo(tmp_path / "srv" / "upstream")
    repo.commit_file("README", "one\n")
    repo.tag("v1.0", annotated=True)
    repo.commit_file("README", "two\n")
    repo.commit_file("main.go", "package main\n")
    return repo


@pytest.fixture(params=[True, False], ids=["filters", "no-filters"])
def daemon(request: pytest.FixtureRequest, served: UpstreamRepo) -> Iterator[GitDaemon]:
    with GitDaemon(served.path.parent, allow_filter=request.param) as running:
        yield running


def describe(cache: Path, url: str, commit: str) -> str:
    upstream = Upstream(url, commit)
    result = GitVersioner(cache, timeout=30).describe_all([(upstream, Path("/"))])
    outcome = result[upstream, Path("/")]
    assert isinstance(outcome, str), outcome
    return outcome


def cached(cache: Path, url: str) -> Path:
    return cache / RepoSource.parse(url, Path("/")).dir_name


def test_commits_and_tags_only_where_the_server_filters(
    daemon: GitDaemon, served: UpstreamRepo, tmp_path: Path
) -> None:
    url = daemon.url("upstream")
    tip = served.head()
    assert describe(tmp_path / "cache", url, tip) == f"v1.0-2-g{tip[:7]}"
    kinds = set(objects(cached(tmp_path / "cache", url)).values())
    assert kinds == ({"commit", "tag"} if daemon.allow_filter else ALL_KINDS)


def test_a_mirror_lacking_a_blob_still_describes_when_it_filters(
    tmp_path: Path, served: UpstreamRepo
) -> None:
    """As many mirrors are: a full fetch dies in pack-objects, a commit-and-tag fetch does not."""
    blob = served.git("rev-parse", "HEAD:main.go")
    (served.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    tip = served.head()
    with GitDaemon(tmp_path / "srv", allow_filter=True) as daemon:
        assert describe(tmp_path / "cache", daemon.url("upstream"), tip) == f"v1.0-2-g{tip[:7]}"
    with GitDaemon(tmp_path / "srv", allow_filter=False) as daemon:
        failed = GitVersioner(tmp_path / "full", timeout=30).describe_all(
            [(Upstream(daemon.url("upstream"), tip), Path("/"))]
        )
    [outcome] = failed.values()
    assert isinstance(outcome, Exception)
    assert "cannot fetch from git://127.0.0.1:" in str(outcome)


def test_a_cache_fetched_in_full_keeps_working_and_then_takes_commits_only(
    tmp_path: Path, served: UpstreamRepo
) -> None:
    first = served.head()
    with GitDaemon(tmp_path / "srv", allow_filter=True) as daemon:
        url = daemon.url("upstream")
        old = BareRepo(cached(tmp_path / "cache", url), timeout=30)  # as an older tagmgr left it
        old.path.mkdir(parents=True)
        old.output("init", "--bare", "--quiet")
        fetched = old.fetch(
            "--quiet", url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"
        )
        assert fetched.status == 0, fetched.stderr
        assert set(objects(old.path).values()) == ALL_KINDS
        served.tag("v1.1")
        later = served.commit_file("later.txt", "new file\n")
        assert describe(tmp_path / "cache", url, later) == f"v1.1-1-g{later[:7]}"
        assert describe(tmp_path / "cache", url, first) == "v1.1"
    held = objects(old.path)
    assert served.git("rev-parse", f"{first}^{{tree}}") in held
    assert served.git("rev-parse", f"{later}^{{tree}}") not in held
    assert held[later] == "commit"


def test_a_warm_cache_fetches_the_tags_beside_a_new_commit_and_still_no_trees(
    tmp_path: Path, served: UpstreamRepo
) -> None:
    """Checking that a new commit is there must not fetch it: in a partial clone git would, on
    its own, with its trees, and the branch-and-tag fetch that brings the new tag never ran
    (issue 23: v1.0-2-g... where git says v1.1-1-g...)."""
    first = served.head()
    with GitDaemon(tmp_path / "srv", allow_filter=True) as daemon:
        url = daemon.url("upstream")
        assert describe(tmp_path / "cache", url, first) == f"v1.0-2-g{first[:7]}"
        served.tag("v1.1", annotated=True)
        later = served.commit_file("later.txt", "new file\n")
        assert describe(tmp_path / "cache", url, later) == f"v1.1-1-g{later[:7]}"
    assert served.git("describe", "--tags", later) == f"v1.1-1-g{later[:7]}"
    assert set(objects(cached(tmp_path / "cache", url)).values()) == {"commit", "tag"}
