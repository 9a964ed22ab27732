"""Cache size and time of `tagmgr describe` against a real upstream served on 127.0.0.1.

    python scripts/bench_upstream.py GIT_DIR [COMMIT]

Serves the repository GIT_DIR (a bare clone of the upstream, e.g. of
intel/intel-device-plugins-for-kubernetes) with `git daemon`, once answering partial-clone
requests (uploadpack.allowFilter=true, as GitHub, GitLab and Gerrit do) and once not, and runs
`tagmgr describe` of COMMIT (default 4f28657) on an empty cache against each. Prints the time,
the cache size, the objects it holds and the describe output, or why the describe failed. The
repository is only read. Not part of `make bench`: it needs an upstream copy on this machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.gitrepos import GitDaemon, objects  # noqa: E402

TAGMGR = str(Path(sys.executable).with_name("tagmgr"))
MANIFEST = """\
images:
- name: docker.io/starlingx/intel-gpu-plugin
  src_build_tag: master-distroless-stable-20191203T153530Z.0
  upstream: {{repo: "{url}", commit: {commit}}}
  tag: "stx.4.0-{{describe}}"
"""


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 64
    git_dir = Path(argv[1]).resolve()
    commit = argv[2] if len(argv) == 3 else "4f28657"
    for allow_filter in (True, False):
        with (
            tempfile.TemporaryDirectory(prefix="tagmgr-bench-upstream-") as workdir,
            GitDaemon(git_dir.parent, allow_filter=allow_filter) as daemon,
        ):
            measure(daemon, daemon.url(git_dir.name), commit, Path(workdir))
    return 0


def measure(daemon: GitDaemon, url: str, commit: str, workdir: Path) -> None:
    manifest = workdir / "m.yaml"
    manifest.write_text(MANIFEST.format(url=url, commit=commit), encoding="utf-8")
    cache = workdir / "cache"
    argv = [TAGMGR, "describe", "--output=json", f"--git-cache={cache}", str(manifest)]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    [entry] = json.loads(done.stdout)["entries"]
    clones = [path for path in cache.iterdir() if path.is_dir()]
    size = sum(f.stat().st_size for c in clones for f in c.rglob("*") if f.is_file())
    kinds: dict[str, int] = {}
    for clone in clones:
        for kind in objects(clone).values():
            kinds[kind] = kinds.get(kind, 0) + 1
    server = "filters (uploadpack.allowFilter=true)" if daemon.allow_filter else "no filters"
    print(f"server {server}: {seconds:.2f} s, cache {size / 2**20:.1f} MiB, objects {kinds}")
    print(f"    describe: {entry['describe'] or entry['message']}")
    print(f"    {' '.join(argv)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
