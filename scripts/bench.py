"""`make bench`: apply's parallelism measured side by side on one local docker-registry.

Eight repositories, each with one two-platform source image; every run creates ten new tags per
repository (80 skopeo copies) with `--jobs 1` and with `--jobs 4`, alternating, three rounds.
Writes to one repository are serialised by design, so the parallelism is across repositories.
Prints the median seconds of each and their ratio, with the exact commands.
"""

from __future__ import annotations

import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.oci import oci_index  # noqa: E402
from tests.support.push import push  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

TAGMGR = str(Path(sys.executable).with_name("tagmgr"))
REPOSITORIES = 8
TAGS_PER_REPOSITORY = 10
ROUNDS = 3
JOBS = (1, 4)


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="tagmgr-bench-") as workdir,
        RegistryServer(Path(workdir)) as server,
    ):
        repos = [f"bench/app-{n}" for n in range(REPOSITORIES)]
        for repo in repos:
            push(server.address, repo, "build-1", oci_index(repo))
        timings: dict[int, list[float]] = {jobs: [] for jobs in JOBS}
        for round_number in range(ROUNDS):
            for jobs in JOBS:
                manifest = Path(workdir) / f"round-{round_number}-jobs-{jobs}.yaml"
                write_manifest(manifest, server.address, repos, prefix=f"r{round_number}j{jobs}")
                argv = [TAGMGR, "apply", "--yes", f"--jobs={jobs}", "--output=json", str(manifest)]
                timings[jobs].append(timed(argv))
        report(timings, argv)
    return 0


def write_manifest(path: Path, address: str, repos: list[str], prefix: str) -> None:
    lines = ["images:"]
    for repo in repos:
        for number in range(TAGS_PER_REPOSITORY):
            lines += [
                f"- name: {address}/{repo}",
                "  src_build_tag: build-1",
                f"  tag: {prefix}-{number}",
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def report(timings: dict[int, list[float]], last_argv: list[str]) -> None:
    copies = REPOSITORIES * TAGS_PER_REPOSITORY
    print(f"apply of {copies} new tags in {REPOSITORIES} repositories, {ROUNDS} rounds (median):")
    medians = {jobs: statistics.median(values) for jobs, values in timings.items()}
    for jobs, median in medians.items():
        runs = ", ".join(f"{v:.2f}" for v in timings[jobs])
        per_tag = median / copies * 1000
        print(f"  --jobs {jobs}: {median:6.2f} s  ({per_tag:.0f} ms per tag; runs: {runs})")
    print(f"  ratio --jobs 1 / --jobs {JOBS[-1]}: {medians[JOBS[0]] / medians[JOBS[-1]]:.2f}x")
    print(f"command (last run): {shlex.join(last_argv)}")


if __name__ == "__main__":
    sys.exit(main())
