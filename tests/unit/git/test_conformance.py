"""tagmgr's describe against git's own, side by side on real repositories built here.

The reference is ``git describe --tags --candidates=27 [--match=GLOB] COMMIT``, run in the upstream
itself, one commit at a time. tagmgr must give the same tag and count for every commit, written its
way (docs/concepts/derived-tags.md, "The describe rule"): exactly 7 hex digits, and '-' for each '/'
of the tag name. A commit git cannot describe must fail in tagmgr too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tagmgr.errors import GitVersionError
from tagmgr.git.describe import CANDIDATES, HASH_WIDTH, DescribeResult, GitVersioner
from tagmgr.manifest.model import Upstream
from tagmgr.system import process
from tests.support.githistory import grow_history
from tests.support.gitrepos import GitDaemon, UpstreamRepo, isolate_git, objects

pytestmark = pytest.mark.slow  # git describe, run once per commit of long histories

MATCHES = [None, "v*", "mod/*"]
_GIT_OUTPUT = re.compile(r"(?P<tag>.+)-(?P<depth>[0-9]+)-g(?P<hash>[0-9a-f]+)")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> UpstreamRepo:
    """151 commits, 36 tags (some with '/', some two on a commit), 13 merges, skewed dates."""
    repo = UpstreamRepo(tmp_path_factory.mktemp("history") / "upstream")
    repo.commit("root")
    grow_history(repo, commits=150, seed=23)
    return repo


def git_says(repo: UpstreamRepo, sha: str, match: str | None) -> str | None:
    """git's describe of ``sha`` in tagmgr's spelling, or None where git cannot describe it."""
    options = [f"--candidates={CANDIDATES}", *([f"--match={match}"] if match else [])]
    try:
        said = repo.git("describe", "--tags", *options, sha)
    except RuntimeError:
        return None
    parsed = _GIT_OUTPUT.fullmatch(said)
    if parsed is None or not sha.startswith(parsed["hash"]):
        return said.replace("/", "-")  # the commit carries the tag
    return f"{parsed['tag'].replace('/', '-')}-{parsed['depth']}-g{sha[:HASH_WIDTH]}"


def tagmgr_says(outcome: DescribeResult) -> str | None:
    return None if isinstance(outcome, GitVersionError) else outcome


def side_by_side(
    versioner: GitVersioner, repo: UpstreamRepo, url: str, shas: Sequence[str]
) -> tuple[dict[tuple[str, str | None], str | None], dict[tuple[str, str | None], str | None]]:
    """tagmgr's and git's answers for every commit and every glob of ``MATCHES``."""
    items = [(Upstream(url, sha, match), Path("/")) for match in MATCHES for sha in shas]
    described = versioner.describe_all(items)
    ours = {(u.commit, u.match): tagmgr_says(described[u, base]) for u, base in items}
    theirs = {(u.commit, u.match): git_says(repo, u.commit, u.match) for u, _ in items}
    return ours, theirs


def test_every_commit_of_a_history_with_many_tags_and_merges(
    history: UpstreamRepo, tmp_path: Path
) -> None:
    # Oldest first: the untagged root fails first, and every commit after it is still described.
    shas = history.git("rev-list", "--all", "--reverse", "--date-order").split()
    ours, theirs = side_by_side(GitVersioner(tmp_path / "cache"), history, str(history.path), shas)
    assert ours == theirs
    assert sum(answer is None for answer in theirs.values()) >= 3  # git fails on some: so do we
    assert any("mod-v0." in (answer or "") for answer in theirs.values())


def test_tags_added_after_the_cache_was_made(history: UpstreamRepo, tmp_path: Path) -> None:
    """A partial clone made first, then the upstream moves on: new commits on main and on a
    merged branch, new tags of every kind, one of them on an old commit. A run that needs a new
    commit fetches every branch and tag, and then agrees with git on old commits and new."""
    upstream = UpstreamRepo(tmp_path / "srv" / "upstream")
    upstream.git("fetch", "--quiet", "--update-head-ok", str(history.path), "+refs/*:refs/*")
    upstream.git("reset", "--quiet", "--hard", "main")
    upstream.clock = history.clock
    old = upstream.git("rev-list", "--all").split()
    versioner = GitVersioner(tmp_path / "cache")
    with GitDaemon(tmp_path / "srv", allow_filter=True) as daemon:
        url = daemon.url("upstream")
        side_by_side(versioner, upstream, url, old[:5])
        upstream.tag("v1.99.0", old[40], annotated=True)
        upstream.branch("late")
        upstream.commits("late one", "late two")
        upstream.tag("mod/v0.99.0")
        upstream.checkout("main")
        upstream.commit("after")
        upstream.tag("build-99")
        merge = upstream.merge("late")
        upstream.tag("v2.0.0", annotated=True)
        new = [*upstream.git("rev-list", "main", "--not", *old).split(), merge]
        ours, theirs = side_by_side(versioner, upstream, url, [*new, *old[:60]])
    assert ours == theirs
    [clone] = [path for path in versioner.cache.root.iterdir() if path.is_dir()]
    assert set(objects(clone).values()) == {"commit", "tag"}


def test_a_warm_cache_keeps_its_tags_until_a_commit_is_missing(
    history: UpstreamRepo, tmp_path: Path
) -> None:
    """Where tagmgr differs from git by design (docs/concepts/derived-tags.md): a run whose commits
    are all cached fetches nothing, so a tag added upstream later on an older commit is not seen
    until then."""
    upstream = UpstreamRepo(tmp_path / "upstream")
    upstream.commit("one")
    upstream.tag("v1.0")
    *_, tip = upstream.commits("two", "three")
    versioner = GitVersioner(tmp_path / "cache")
    entry = (Upstream(str(upstream.path), tip), Path("/"))
    assert versioner.describe_all([entry])[entry] == f"v1.0-2-g{tip[:7]}"
    upstream.tag("v1.1", "HEAD~1")
    assert git_says(upstream, tip, None) == f"v1.1-1-g{tip[:7]}"
    assert versioner.describe_all([entry])[entry] == f"v1.0-2-g{tip[:7]}"
    later = (Upstream(str(upstream.path), upstream.commit("four")), Path("/"))
    assert versioner.describe_all([entry, later])[entry] == f"v1.1-1-g{tip[:7]}"


def test_past_the_candidate_limit_git_need_not_pick_the_nearest_tag(tmp_path: Path) -> None:
    r"""The describe rule, point 2. Walking back from C, newest commit date first, git meets the 28
    tags of a recent branch before the old-dated merge tagged `near`, stops at the 28th and takes
    the best of the 27 it kept, r27, 43 commits away, though `near` is 2 away. tagmgr says what git
    says.

        root - r00 - ... - r27 - recent-tip - C        (r00 to C: newest dates)
           \                  \              /
            old0 - ... - old39 - near ------          (old0 to near: dated before root)
    """
    repo = UpstreamRepo(tmp_path / "upstream")
    repo.commit("root")
    repo.branch("recent")
    for number in range(28):
        repo.commit(f"recent {number}")
        repo.tag(f"r{number:02d}")
    repo.checkout("main")
    repo.clock -= 10_000 * 60
    repo.commits(*(f"old {number}" for number in range(40)))
    repo.merge("recent")
    repo.tag("near")
    repo.clock += 20_000 * 60
    repo.checkout("recent")
    repo.commit("recent tip")
    repo.checkout("main")
    tip = repo.merge("recent")
    distances = {
        name: int(repo.git("rev-list", "--count", f"{name}..{tip}"))
        for name in repo.git("tag", "--merged", tip).split()
    }
    assert min(distances.values()) == distances["near"] == 2
    assert distances["r27"] == 43
    assert git_says(repo, tip, None) == f"r27-43-g{tip[:7]}"
    entry = (Upstream(str(repo.path), tip), Path("/"))
    assert GitVersioner(tmp_path / "cache").describe_all([entry])[entry] == f"r27-43-g{tip[:7]}"


def test_one_git_describe_per_repository_and_match(
    history: UpstreamRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23: three git processes per entry (two rev-parse, one describe) made 50 to 58 ms an
    entry on a warm cache. Now a warm run looks every commit up in one call and describes all
    the commits of one glob in one more."""
    items = [
        (Upstream(str(history.path), sha, match), Path("/"))
        for match in MATCHES
        for sha in history.git("rev-list", "--all").split()
    ]
    versioner = GitVersioner(tmp_path / "cache")
    cold = versioner.describe_all(items)  # the cache is warm from here
    commands: list[str] = []
    real_run = process.run

    def recording_run(argv: Sequence[str], **options: Any) -> process.Completed:
        commands.append(argv[1])
        return real_run(argv, **options)

    monkeypatch.setattr(process, "run", recording_run)
    warm = versioner.describe_all(items)
    assert sorted(commands) == ["cat-file", "describe", "describe", "describe"]
    assert {item: str(outcome) for item, outcome in warm.items()} == {
        item: str(outcome) for item, outcome in cold.items()
    }


@pytest.mark.parametrize("ref", ["tag", "branch"])
def test_a_hash_that_is_also_a_ref_name_upstream_is_the_commit_it_abbreviates(
    tmp_path: Path, ref: str
) -> None:
    """git reads a name as a branch or tag before it reads it as an abbreviated hash: a tag or
    branch upstream named like the commit's short hash (or a year, '2019') must not stand in."""
    repo = UpstreamRepo(tmp_path / "upstream")
    base = repo.commit("base")
    repo.tag("v1.0")
    repo.commits("a", "b")
    tip = repo.commit("c")
    short = tip[:8]
    if ref == "tag":
        repo.tag(short, base)
    else:
        repo.git("branch", short, base)
    upstream = Upstream(str(repo.path), short, None)
    outcome = GitVersioner(tmp_path / "cache", timeout=30).describe_all([(upstream, Path("/"))])
    assert outcome[(upstream, Path("/"))] == git_says(repo, tip, None)
