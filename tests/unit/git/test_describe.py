"""The describe rule and the clone cache, against real repositories built in tmp_path."""

from __future__ import annotations

import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.errors import GitVersionError
from tagmgr.git.barerepo import BareRepo, complaint, redact_url
from tagmgr.git.cache import RepoSource, default_cache_dir
from tagmgr.git.describe import GitVersioner
from tagmgr.manifest.model import Upstream
from tagmgr.system import interrupt
from tests.support.gitrepos import UpstreamRepo, isolate_git
from tests.support.launch import MARKER, carrying, leftovers

pytestmark = pytest.mark.slow  # a git repository and git processes for every test

Item = tuple[Upstream, Path]


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


@pytest.fixture
def versioner(tmp_path: Path) -> GitVersioner:
    return GitVersioner(tmp_path / "cache", timeout=30)


@pytest.fixture
def repo(tmp_path: Path) -> UpstreamRepo:
    return UpstreamRepo(tmp_path / "upstream")


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> UpstreamRepo:
    """v1.0, then 16384 files (git's abbreviation grows to 8) and 1000 commits on top."""
    big = UpstreamRepo(tmp_path_factory.mktemp("big") / "upstream")
    big.commit("first")
    big.tag("v1.0")
    big.bulk_import(files=1 << 14, commits=1000)
    return big


def item(repo: UpstreamRepo | str, commit: str, match: str | None = None) -> Item:
    location = repo if isinstance(repo, str) else str(repo.path)
    return Upstream(location, commit, match), Path("/")


def describe(versioner: GitVersioner, entry: Item) -> str:
    result = versioner.describe_all([entry])[entry]
    assert isinstance(result, str), result
    return result


def failure(versioner: GitVersioner, entry: Item) -> str:
    result = versioner.describe_all([entry])[entry]
    assert isinstance(result, GitVersionError), result
    return str(result)


def clones(versioner: GitVersioner) -> list[str]:
    return sorted(p.name for p in versioner.cache.root.iterdir() if not p.name.endswith(".lock"))


# The rule


def test_lightweight_tag_then_commits(versioner: GitVersioner, repo: UpstreamRepo) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    *_, tip = repo.commits("two", "three")
    assert describe(versioner, item(repo, tip)) == f"v1.0-2-g{tip[:7]}"


def test_annotated_and_lightweight_tags_count_alike(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    repo.commit("one")
    repo.tag("v1.0", annotated=True)
    repo.commit("two")
    repo.tag("v1.1")  # lightweight, and nearer: plain `git describe` would still say v1.0-2-...
    tip = repo.commit("three")
    assert describe(versioner, item(repo, tip)) == f"v1.1-1-g{tip[:7]}"


def test_commit_on_a_tag_is_the_tag_alone(versioner: GitVersioner, repo: UpstreamRepo) -> None:
    repo.commit("one")
    tagged = repo.commit("two")
    repo.tag("v2.2", annotated=True)
    repo.commit("three")
    assert describe(versioner, item(repo, tagged[:7])) == "v2.2"


def test_after_a_merge_the_tag_fewest_commits_away_wins(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    # main:    c0 (v1.0) - m1 (v1.1) - m2 - m3 ----- M
    #             \                                 /
    # feature:     f1 - f2 (v2.0) - f3 ------------
    repo.commit("c0")
    repo.tag("v1.0")
    repo.branch("feature")
    repo.commits("f1", "f2")
    repo.tag("v2.0")
    repo.commit("f3")
    repo.checkout("main")
    repo.commit("m1")
    repo.tag("v1.1")  # the newest tag by date, yet not the nearest
    repo.commits("m2", "m3")
    merge = repo.merge("feature")
    # git log v2.0..M lists f3, m1, m2, m3 and M: 5 commits.
    # git log v1.1..M lists f1, f2, f3, m2, m3 and M: 6. git log v1.0..M: 8.
    assert describe(versioner, item(repo, merge)) == f"v2.0-5-g{merge[:7]}"


def test_tags_on_one_commit(tmp_path: Path, repo: UpstreamRepo) -> None:
    repo.commit("one")
    repo.tag("b-light")
    repo.tag("a-light")
    tip = repo.commit("two")
    # Among lightweight tags on one commit, the name that sorts first.
    first = GitVersioner(tmp_path / "first")
    assert describe(first, item(repo, tip)) == f"a-light-1-g{tip[:7]}"
    repo.tag("z-annotated", "HEAD~1", annotated=True)
    repo.tag("y-annotated-later", "HEAD~1", annotated=True)
    # An annotated tag beats a lightweight one; among annotated tags, the newer tagger date.
    second = GitVersioner(tmp_path / "second")
    assert describe(second, item(repo, tip)) == f"y-annotated-later-1-g{tip[:7]}"


def test_match_skips_tags_that_do_not_match(versioner: GitVersioner, repo: UpstreamRepo) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    repo.commit("two")
    repo.tag("foo-2")
    tip = repo.commit("three")
    assert describe(versioner, item(repo, tip, "v*")) == f"v1.0-2-g{tip[:7]}"
    assert describe(versioner, item(repo, tip)) == f"foo-2-1-g{tip[:7]}"


def test_a_slash_in_a_tag_name_is_written_as_a_dash(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    """As Go monorepos tag their modules; no image tag may hold a '/'."""
    tagged = repo.commit("one")
    repo.tag("kyaml/v0.1.0", annotated=True)
    repo.tag("api/v0.2.0")
    tip = repo.commit("two")
    assert repo.git("describe", "--tags", "--match=api/*", tip) == f"api/v0.2.0-1-g{tip[:7]}"
    assert describe(versioner, item(repo, tip, "api/*")) == f"api-v0.2.0-1-g{tip[:7]}"
    assert describe(versioner, item(repo, tip)) == f"kyaml-v0.1.0-1-g{tip[:7]}"
    assert describe(versioner, item(repo, tagged)) == "kyaml-v0.1.0"


def test_no_tag_before_the_commit(versioner: GitVersioner, repo: UpstreamRepo) -> None:
    first = repo.commit("one")
    repo.tag("foo-1")
    assert failure(versioner, item(repo, first, "v*")) == (
        f"upstream {repo.path} commit {first}: "
        "no tag matching 'v*' is reachable from this commit (no tagged ancestor)"
    )
    untagged = repo.commit("two")
    repo.git("tag", "--delete", "foo-1")
    fresh = GitVersioner(versioner.cache.root.with_name("fresh"))
    assert failure(fresh, item(repo, untagged)) == (
        f"upstream {repo.path} commit {untagged}: "
        "no tag is reachable from this commit (no tagged ancestor)"
    )


def test_hash_keeps_seven_digits_however_big_the_repository(
    versioner: GitVersioner, big_repo: UpstreamRepo
) -> None:
    tip = big_repo.head()
    assert describe(versioner, item(big_repo, tip)) == f"v1.0-1001-g{tip[:7]}"
    source = RepoSource.parse(str(big_repo.path), Path("/"))
    plain = BareRepo(versioner.cache.path_for(source), 30).output("describe", "--tags", tip)
    assert plain == f"v1.0-1001-g{tip[:8]}"  # what plain git describe prints from the same clone


def test_ambiguous_short_commit(versioner: GitVersioner, big_repo: UpstreamRepo) -> None:
    shared = Counter(sha[:4] for sha in big_repo.git("rev-list", "main").split())
    prefix, count = shared.most_common(1)[0]
    assert count >= 2
    assert failure(versioner, item(big_repo, prefix)) == (
        f"upstream {big_repo.path} commit {prefix}: "
        f"{count} commits or tags start with '{prefix}'; write more digits of the hash"
    )


# The cache


def test_shallow_seeded_cache_gives_the_full_answer(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    *_, tip = repo.commits("two", "three", "four")
    url = f"file://{repo.path}"
    clone = versioner.cache.path_for(RepoSource.parse(url, Path("/")))
    repo.git("clone", "--quiet", "--bare", "--depth=1", url, str(clone))
    assert (clone / "shallow").exists()
    assert describe(versioner, item(url, tip)) == f"v1.0-3-g{tip[:7]}"
    assert not (clone / "shallow").exists()


def test_shallow_upstream_is_refused(
    versioner: GitVersioner, repo: UpstreamRepo, tmp_path: Path
) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    tip = repo.commit("two")
    shallow = tmp_path / "shallow"
    repo.git("clone", "--quiet", "--depth=1", f"file://{repo.path}", str(shallow))
    assert failure(versioner, item(str(shallow), tip)) == (
        f"upstream {shallow} commit {tip}: {shallow} is itself a shallow clone and cannot give "
        "the full history that describe needs; point upstream.repo at a complete repository"
    )


def test_missing_commit(versioner: GitVersioner, repo: UpstreamRepo) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    full = "0123456789abcdef0123456789abcdef01234567"
    assert failure(versioner, item(repo, full)) == (
        f"upstream {repo.path} commit {full}: no such commit upstream "
        "(fetched all branches and tags and asked for the hash itself)"
    )
    assert failure(versioner, item(repo, "0123456")) == (
        f"upstream {repo.path} commit 0123456: "
        "no such commit upstream (fetched all branches and tags)"
    )


def test_commit_spelled_as_a_branch_is_refused(versioner: GitVersioner, repo: UpstreamRepo) -> None:
    repo.commit("one")
    assert failure(versioner, item(repo, "main")) == (
        f"upstream {repo.path} commit main: commit must be 4 to 64 lowercase hex digits"
    )


def test_commit_outside_branches_and_tags_is_fetched_by_hash(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    change = repo.commit("a review, like a Gerrit change")
    repo.git("update-ref", "refs/changes/01/1/1", change)
    repo.git("reset", "--quiet", "--hard", "HEAD~1")
    assert describe(versioner, item(repo, change)) == f"v1.0-1-g{change[:7]}"


@pytest.mark.parametrize("spelling", ["{path}/nowhere", "file://{path}/nowhere"])
def test_unreachable_repository(versioner: GitVersioner, tmp_path: Path, spelling: str) -> None:
    location = spelling.format(path=tmp_path)
    assert failure(versioner, item(location, "4f28657")) == (
        f"upstream {location} commit 4f28657: cannot fetch from {location}: "
        f"'{tmp_path}/nowhere' does not appear to be a git repository"
    )


def test_credential_prompt_is_never_shown(versioner: GitVersioner, password_server: str) -> None:
    url = password_server
    assert failure(versioner, item(url, "4f28657")) == (
        f"upstream {url} commit 4f28657: cannot fetch from {url}: could not read Username "
        f"for '{url.removesuffix('/repo.git')}': terminal prompts disabled"
    )


def test_silent_server_times_out(tmp_path: Path, silent_server: str) -> None:
    versioner = GitVersioner(tmp_path / "cache", timeout=1)
    url = silent_server
    message = failure(versioner, item(url, "4f28657"))
    assert message == (
        f"upstream {url} commit 4f28657: cannot fetch from {url}: git fetch --quiet --force"
        f" --update-shallow --filter=tree:0 --prune -- {url} +refs/heads/*:refs/heads/*"
        " +refs/tags/*:refs/tags/*: still running after 1 s; stopped"
    )


def test_ext_transport_is_refused(versioner: GitVersioner, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    location = f"ext::sh -c touch% {marker}"
    assert failure(versioner, item(location, "4f28657")) == (
        f"upstream {location} commit 4f28657: cannot fetch from {location}: "
        "transport 'ext' not allowed"
    )
    assert not marker.exists()


def test_path_relative_path_and_file_url_share_one_clone(
    versioner: GitVersioner, repo: UpstreamRepo, tmp_path: Path
) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    tip = repo.commit("two")
    manifest_dir = tmp_path / "manifests"
    entries = [
        (Upstream(str(repo.path), tip), Path("/")),
        (Upstream("../upstream", tip), manifest_dir),
        (Upstream(f"file://{repo.path}/", tip), Path("/")),
    ]
    results = versioner.describe_all(entries)
    assert list(results.values()) == [f"v1.0-1-g{tip[:7]}"] * 3
    assert len(clones(versioner)) == 1


def test_entries_on_one_repository_share_one_clone(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    first = repo.commit("one")
    repo.tag("v1.0")
    second, third = repo.commits("two", "three")
    results = versioner.describe_all([item(repo, c) for c in (first, second, third)])
    assert list(results.values()) == ["v1.0", f"v1.0-1-g{second[:7]}", f"v1.0-2-g{third[:7]}"]
    [name] = clones(versioner)
    assert name == RepoSource.parse(str(repo.path), Path("/")).dir_name
    assert re.fullmatch(r"[\w.-]*-upstream-[0-9a-f]{12}", name)  # readable slug, hash of the URL


def test_cached_commit_needs_no_fetch(
    versioner: GitVersioner, repo: UpstreamRepo, tmp_path: Path
) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    tip = repo.commit("two")
    entry = item(repo, tip)
    assert describe(versioner, entry) == f"v1.0-1-g{tip[:7]}"
    repo.path.rename(tmp_path / "gone")  # offline from now on
    assert describe(versioner, entry) == f"v1.0-1-g{tip[:7]}"


def test_new_commit_is_fetched_into_the_existing_clone(
    versioner: GitVersioner, repo: UpstreamRepo
) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    assert describe(versioner, item(repo, repo.head())) == "v1.0"
    repo.commit("two")
    repo.tag("v1.1")
    tip = repo.commit("three")
    assert describe(versioner, item(repo, tip)) == f"v1.1-1-g{tip[:7]}"
    assert len(clones(versioner)) == 1


def test_concurrent_runs_share_the_clone_safely(tmp_path: Path, repo: UpstreamRepo) -> None:
    repo.commit("one")
    repo.tag("v1.0")
    tip = repo.commit("two")
    runs = [GitVersioner(tmp_path / "cache") for _ in range(4)]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda v=v: results.append(describe(v, item(repo, tip))))
        for v in runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [f"v1.0-1-g{tip[:7]}"] * 4
    assert len(clones(runs[0])) == 1


def test_no_git_starts_after_a_stop_request(
    versioner: GitVersioner, repo: UpstreamRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    tip = repo.commit("one")
    monkeypatch.setattr(interrupt, "requested", lambda: True)
    assert failure(versioner, item(repo, tip)) == (
        f"upstream {repo.path} commit {tip}: not described: tagmgr was asked to stop"
    )
    assert not versioner.cache.root.exists()


def test_a_relative_cache_dir_is_relative_to_the_working_directory(
    repo: UpstreamRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--git-cache relcache` failed: git init's "Invalid path 'DIR/relcache/relcache'"."""
    repo.commit("one")
    repo.tag("v1.0")
    tip = repo.commit("two")
    monkeypatch.chdir(tmp_path)
    versioner = GitVersioner(Path("relcache"), timeout=30)
    assert describe(versioner, item(repo, tip)) == f"v1.0-1-g{tip[:7]}"
    assert len(clones(versioner)) == 1
    assert versioner.cache.root == tmp_path / "relcache"


def test_unusable_cache_dir(tmp_path: Path, repo: UpstreamRepo) -> None:
    (tmp_path / "file").write_text("")
    versioner = GitVersioner(tmp_path / "file" / "cache")
    assert failure(versioner, item(repo, "4f28657")) == (
        f"upstream {repo.path} commit 4f28657: "
        f"cannot use the git cache {tmp_path}/file/cache: Not a directory"
    )


def test_default_cache_dir_follows_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "tagmgr" / "git"


@pytest.mark.parametrize("xdg", [None, "", "relative/cache", "./cache", "~/cache"])
def test_default_cache_dir_ignores_an_unset_empty_or_relative_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str | None
) -> None:
    # The XDG spec: unset or empty means ~/.cache, and "if an implementation encounters a
    # relative path in any of these variables it should consider the path invalid and ignore it".
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "tagmgr" / "git"


@pytest.mark.parametrize("jobs", [1, 4])
def test_one_bad_entry_hides_nothing(repo: UpstreamRepo, tmp_path: Path, jobs: int) -> None:
    versioner = GitVersioner(tmp_path / "cache", jobs=jobs, timeout=30)
    repo.commit("one")
    repo.tag("v1.0")
    tip = repo.commit("two")
    other = UpstreamRepo(tmp_path / "other")
    other.commit("x")
    other.tag("r7")
    good = [item(repo, tip), item(other, other.head())]
    bad = [item(repo, "abcdef0"), item(str(tmp_path / "nowhere"), tip)]
    results = versioner.describe_all([bad[0], good[0], bad[1], good[1]])
    assert [results[g] for g in good] == [f"v1.0-1-g{tip[:7]}", "r7"]
    assert all(isinstance(results[b], GitVersionError) for b in bad)


def test_spellings_of_one_remote_share_a_clone_name() -> None:
    spellings = [
        "https://GitHub.com/intel/intel-device-plugins-for-kubernetes",
        "https://github.com/intel/intel-device-plugins-for-kubernetes.git",
        "https://github.com/intel/intel-device-plugins-for-kubernetes/",
    ]
    [name] = {RepoSource.parse(s, Path("/")).dir_name for s in spellings}
    assert re.fullmatch(r"github\.com-intel-intel-device-plugins-for-kubernetes-[0-9a-f]{12}", name)
    with_token = RepoSource.parse("https://bot:s3cret@example.org/a/b.git", Path("/"))
    assert with_token.dir_name.startswith("example.org-a-b-")
    scp = RepoSource.parse("git@example.org:a/b.git", Path("/"))
    assert (scp.location, scp.dir_name[:-13]) == ("git@example.org:a/b.git", "example.org-a-b")


# Passwords in URLs (the schema refuses them; messages never show one that got through)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "https://ci-bot:ghp_TOKEN@github.com/o/r.git",
            "https://ci-bot:<redacted>@github.com/o/r.git",
        ),
        ("https://:ghp_TOKEN@github.com/o/r", "https://:<redacted>@github.com/o/r"),
        ("http://u:p@ss%40w@h:8080/r", "http://u:<redacted>@h:8080/r"),
        (
            "cannot fetch from ssh://git:pw@h/r: 'ssh://git:pw@h/r' is not there",
            "cannot fetch from ssh://git:<redacted>@h/r: 'ssh://git:<redacted>@h/r' is not there",
        ),
        ("ssh://git@example.org:2222/r.git", "ssh://git@example.org:2222/r.git"),
        ("https://example.org:443/r@v1", "https://example.org:443/r@v1"),
        ("git@example.org:a/b.git", "git@example.org:a/b.git"),
        ("/srv/git/a:b@c", "/srv/git/a:b@c"),
    ],
)
def test_redact_url_hides_only_the_password(text: str, shown: str) -> None:
    assert redact_url(text) == shown


def test_git_complaints_are_redacted() -> None:
    stderr = "hint: x\nfatal: unable to access 'https://bot:s3cret@h/r/': Could not resolve host\n"
    assert (
        complaint(stderr)
        == "unable to access 'https://bot:<redacted>@h/r/': Could not resolve host"
    )
    assert complaint("ssh: https://bot:s3cret@h/r\n") == "ssh: https://bot:<redacted>@h/r"


def test_password_in_an_upstream_url_never_reaches_a_message(
    versioner: GitVersioner, password_server: str
) -> None:
    url = password_server.replace("http://", "http://ci-bot:s3cret@")
    shown = password_server.replace("http://", "http://ci-bot:<redacted>@")
    message = failure(versioner, item(url, "4f28657"))
    assert message == (
        f"upstream {shown} commit 4f28657: cannot fetch from {shown}: "
        f"Authentication failed for '{password_server}/'"
    )
    assert "s3cret" not in message


# Stub HTTP servers on 127.0.0.1


class _AskForPassword(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="upstream"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def password_server() -> Iterator[str]:
    """Answers every request with 401 and a Basic challenge."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _AskForPassword)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/repo.git"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/repo.git"


# A describe with a 2 s time limit, in a process of its own that the test kills.
DESCRIBE = """
import sys
from pathlib import Path
from tagmgr.git.describe import GitVersioner
from tagmgr.manifest.model import Upstream
upstream = Upstream(sys.argv[2], "4f28657")
GitVersioner(Path(sys.argv[1]), timeout=2).describe_all([(upstream, Path("/"))])
"""


def test_git_and_its_helper_end_soon_after_tagmgr_is_killed(
    tmp_path: Path, silent_server: str
) -> None:
    """git dies with tagmgr at once; its HTTP helper, waiting on a server that never answers,
    gives up within the time limit plus a grace of 5 s. Without either, a killed CI job's fetch
    would run on for as long as the server stays silent."""
    marker = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-c", DESCRIBE, str(tmp_path / "cache"), silent_server],
        env={**os.environ, MARKER: marker},
    )
    try:
        deadline = time.monotonic() + 30
        while not any("git remote-http" in found for found in carrying(marker)):
            assert time.monotonic() < deadline, "git never reached the server"
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait()
    assert [found for found in leftovers(marker, timeout=1) if " fetch " in found] == []
    assert leftovers(marker, timeout=2 + 5 + 5) == []


def test_a_repo_url_urllib_cannot_read_is_that_entrys_error(tmp_path: Path) -> None:
    """'https://[host/x' passes the schema (a bracket opens an IPv6 host) but is no URL: one
    entry's error, never a crash of the whole run."""
    upstream = Upstream("https://[git.example.com/x", "a" * 40, None)
    item = (upstream, tmp_path)
    outcome = GitVersioner(tmp_path / "cache", timeout=30).describe_all([item])[item]
    assert isinstance(outcome, GitVersionError)
    assert str(outcome).endswith("repo is not a URL git can use: Invalid IPv6 URL")
