"""`make bench`: `tagmgr describe` of many commits of one upstream, side by side with git alone.

    python scripts/bench_upstream.py [GIT_DIR]

Serves an upstream with `git daemon` on 127.0.0.1: GIT_DIR if given (a copy of a real upstream,
e.g. of intel/intel-device-plugins-for-kubernetes; only read), else one built here with
tests/support/githistory.py (COMMITS commits with tags and merges, the same every run). A
manifest names its newest ENTRIES commits, one entry each. Then:

- `tagmgr describe` on an empty cache, against a server that answers partial-clone requests
  (uploadpack.allowFilter=true, as GitHub, GitLab and Gerrit do) and against one that does not:
  time, cache size and the objects it holds;
- `tagmgr describe` again on the warm cache (median of ROUNDS), per entry;
- on the same warm cache, git alone: three processes per commit (`rev-parse --verify` twice,
  then `describe`: what tagmgr ran before it described a repository in one call), and one
  `git describe` of every commit (what it runs now), median of ROUNDS, answers compared;
- built upstream only: the upstream gains a tag and a commit, and the warm cache describes the
  new commit, next to git's own answer in the upstream and the objects the cache then holds.

tagmgr runs as `python -m tagmgr` from this checkout. Prints the figures with the commands.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.githistory import grow_history  # noqa: E402
from tests.support.gitrepos import ISOLATED_ENV, GitDaemon, UpstreamRepo, objects  # noqa: E402

COMMITS = 400
ENTRIES = 300
ROUNDS = 5
TAGMGR = [sys.executable, "-m", "tagmgr"]
DESCRIBE = ["describe", "--tags", "--long", "--abbrev=40", "--candidates=27"]


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 64
    os.environ.update(ISOLATED_ENV)
    with tempfile.TemporaryDirectory(prefix="tagmgr-bench-upstream-") as workdir:
        work = Path(workdir)
        built = None if len(argv) == 2 else build_upstream(work / "srv" / "upstream")
        served = Path(argv[1]).resolve() if built is None else built.path
        shas = git(served, "rev-list", "--all", f"--max-count={ENTRIES}").split()
        print(f"upstream: {'built here' if built else served}, describing {len(shas)} commits")
        for allow_filter in (True, False):
            with GitDaemon(served.parent, allow_filter=allow_filter) as daemon:
                cache = work / f"cache-{allow_filter}"
                manifest = write_manifest(work / "m.yaml", daemon.url(served.name), shas)
                cold(daemon, manifest, cache)
                if allow_filter:
                    warm(manifest, cache, shas)
                    if built is not None:
                        moved_on(built, daemon, work, cache)
    return 0


def build_upstream(path: Path) -> UpstreamRepo:
    repo = UpstreamRepo(path)
    repo.commit("root")
    grow_history(repo, commits=COMMITS, seed=8)
    return repo


def write_manifest(path: Path, url: str, shas: Sequence[str]) -> Path:
    entries = "".join(
        f"- name: 127.0.0.1:5000/bench/app-{number}\n  src_build_tag: b1\n"
        f'  upstream: {{repo: "{url}", commit: {sha}}}\n  tag: "r-{{describe}}"\n'
        for number, sha in enumerate(shas)
    )
    path.write_text(f"images:\n{entries}", encoding="utf-8")
    return path


def describe(manifest: Path, cache: Path) -> tuple[float, list[dict[str, str]]]:
    argv = [*TAGMGR, "describe", "--output=json", f"--git-cache={cache}", str(manifest)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    return seconds, json.loads(done.stdout)["entries"]


def cold(daemon: GitDaemon, manifest: Path, cache: Path) -> None:
    seconds, entries = describe(manifest, cache)
    server = "filters (uploadpack.allowFilter=true)" if daemon.allow_filter else "no filters"
    print(f"\ncold, server with {server}: {seconds:.2f} s, {cache_figures(cache)}")
    print(f"    {outcomes(entries)}")
    print(f"    tagmgr describe --output=json --git-cache=DIR M.yaml  # {len(entries)} entries")


def warm(manifest: Path, cache: Path, shas: Sequence[str]) -> None:
    runs = [describe(manifest, cache) for _ in range(ROUNDS)]
    seconds = statistics.median(run[0] for run in runs)
    agree = all(run[1] == runs[0][1] for run in runs)
    per_entry = seconds / len(shas) * 1000
    print(f"\nwarm cache, median of {ROUNDS}, {len(shas)} entries, from process start:\n")
    print("| measure | total | per entry |")
    print("|---|---|---|")
    print(f"| tagmgr describe | {seconds:.2f} s | {per_entry:.1f} ms |")
    [clone] = [path for path in cache.iterdir() if path.is_dir()]
    loop = timed(lambda: three_per_commit(clone, shas))
    once = timed(lambda: one_for_all(clone, shas))
    same = three_per_commit(clone, shas) == one_for_all(clone, shas)
    print(f"| git, 3 processes per commit | {loop:.2f} s | {loop / len(shas) * 1000:.1f} ms |")
    print(f"| git, 1 describe of all | {once:.2f} s | {once / len(shas) * 1000:.2f} ms |")
    print(f"\ngit's answers the same both ways: {same}; tagmgr's {ROUNDS} runs the same: {agree}")
    print("commands (DIR is the cached clone, SHA each commit):")
    print("    per commit: git rev-parse --verify --quiet SHA^{commit} (twice);", end="")
    print(f" git {' '.join(DESCRIBE)} SHA")
    print(f"    all at once: git {' '.join(DESCRIBE)} --always SHA...")


def moved_on(upstream: UpstreamRepo, daemon: GitDaemon, work: Path, cache: Path) -> None:
    upstream.tag("v9.0.0", annotated=True)
    new = upstream.commit_file("after.txt", "after the cache was made\n")
    manifest = write_manifest(work / "new.yaml", daemon.url(upstream.path.name), [new])
    seconds, [entry] = describe(manifest, cache)
    print("\nthe upstream gains tag v9.0.0 and one commit; the warm cache describes the commit:")
    print(f"    tagmgr: {entry['describe'] or entry['message']} ({seconds:.2f} s)")
    print(f"    git describe --tags in the upstream: {upstream.git('describe', '--tags', new)}")
    print(f"    cache after: {cache_figures(cache)}")


def timed(action: Callable[[], object]) -> float:
    timings = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def three_per_commit(clone: Path, shas: Sequence[str]) -> list[str]:
    answers = []
    for sha in shas:
        for _ in range(2):
            git(clone, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}")
        answers.append(git(clone, *DESCRIBE, sha, check=False))
    return answers


def one_for_all(clone: Path, shas: Sequence[str]) -> list[str]:
    return git(clone, *DESCRIBE, "--always", *shas).splitlines()


def git(repo: Path, *args: str, check: bool = True) -> str:
    """git in ``repo`` (a bare clone or a working tree), never fetching what it lacks."""
    env = {**os.environ, "GIT_NO_LAZY_FETCH": "1"}
    argv = ["git", "-C", str(repo), *args]
    return subprocess.run(argv, capture_output=True, text=True, check=check, env=env).stdout.strip()


def cache_figures(cache: Path) -> str:
    clones = [path for path in cache.iterdir() if path.is_dir()]
    size = sum(f.stat().st_size for c in clones for f in c.rglob("*") if f.is_file())
    kinds: dict[str, int] = {}
    for clone in clones:
        for kind in objects(clone).values():
            kinds[kind] = kinds.get(kind, 0) + 1
    return f"cache {size / 2**20:.1f} MiB, objects {kinds}"


def outcomes(entries: Sequence[dict[str, str]]) -> str:
    failed = [entry["message"] for entry in entries if not entry.get("describe")]
    first = f"; first failure: {failed[0]}" if failed else ""
    return f"{len(entries) - len(failed)} described, {len(failed)} failed{first}"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
