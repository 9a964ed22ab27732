"""`make bench`: a manifest's history replayed as CI runs it, `tagmgr plan` on every commit.

    python scripts/bench_replay.py [REVISION]

With REVISION (a commit, say ``main``), the tagmgr of that commit is measured instead of this
checkout's.

The common CI case: a manifest of 50 to 70 entries, nearly all present, where each commit adds an
image or moves one to a new build. The history here is COMMITS commits of a StarlingX-shaped
manifest (names under docker.io/starlingx, as manifests/starlingx.yaml), from FIRST entries; each
commit adds an entry (every third) or gives one a new build and a new tag, so it grows to
FIRST + COMMITS / 3. Its first version is applied before the replay, as a repository adopting
tagmgr would. Then, for each commit, in order, as CI does:

1. the builds the commit names are pushed to a local docker-registry (the build's job; untimed);
2. `tagmgr plan --map-registry docker.io=REGISTRY` of the manifest at that commit, a process
   of its own, timed from its start to its exit (the figure);
3. `tagmgr apply --yes` of it (the merge's job; untimed), so that the next commit finds these
   tags present.

Once on loopback, and the first FAR_COMMITS commits again through a relay adding DELAY seconds
each way (tests/support/latency.py), on a registry of their own.
tagmgr is installed as a user installs it (tests/support/measure.py). Prints the
median, min and max per commit, and the commands.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.latency import LatencyRelay  # noqa: E402
from tests.support.measure import (  # noqa: E402
    Run,
    installed_tagmgr,
    interpreter,
    run_process,
    spread,
)
from tests.support.oci import oci_image  # noqa: E402
from tests.support.push import push  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

FIRST = 50
COMMITS = 30
FAR_COMMITS = 10  # through the relay, where each plan and apply takes seconds
DELAY = 0.025
TARGET = 0.4  # seconds per commit, median, on loopback


@dataclass(frozen=True)
class Entry:
    image: str
    build: int

    @property
    def repository(self) -> str:
        return f"starlingx/{self.image}"

    @property
    def source(self) -> str:
        return f"master-debian-stable-20261201T0{self.build:05d}Z.0"

    def yaml(self) -> str:
        return (
            f"- name: docker.io/{self.repository}\n"
            f"  src_build_tag: {self.source}\n"
            f"  src_ref: https://opendev.org/starlingx/integ/commit/{self.build:040x}\n"
            f"  tag: stx.11.0-v1.{self.build}\n"
        )


def history() -> Iterator[list[Entry]]:
    """The manifest's entries at each commit, the first version included."""
    entries = [Entry(f"k8s-image-{n:02d}", n) for n in range(FIRST)]
    yield list(entries)
    for commit in range(1, COMMITS + 1):
        build = FIRST + commit
        if commit % 3 == 0:
            entries.append(Entry(f"k8s-image-{len(entries):02d}", build))
        else:
            moved = commit * 7 % len(entries)
            entries[moved] = Entry(entries[moved].image, build)
        yield list(entries)


@dataclass
class Replay:
    tagmgr: str
    server: RegistryServer
    workdir: Path
    pushed: set[Entry]
    command: str = ""

    def commit(self, number: int, entries: list[Entry], address: str) -> Run:
        """One commit as CI runs it: push its builds, time the plan, apply (see the docstring)."""
        for entry in entries:
            if entry not in self.pushed:
                push(self.server.address, entry.repository, entry.source, oci_image(entry.source))
                self.pushed.add(entry)
        manifest = self.workdir / f"commit-{number}.yaml"
        manifest.write_text("images:\n" + "".join(e.yaml() for e in entries), encoding="utf-8")
        mapping = ["--map-registry", f"docker.io={address}"]
        argv = [self.tagmgr, "plan", *mapping, str(manifest)]
        self.command = shlex.join(argv).replace(self.tagmgr, "tagmgr")
        planned = run_process(argv, self.server)
        run_process([self.tagmgr, "apply", "--yes", *mapping, str(manifest)], self.server)
        return planned


def replay(tagmgr: str, relayed: bool, commits: int) -> tuple[list[Run], str]:
    """The plans of the first ``commits`` commits, on a registry of their own; and the command
    behind them."""
    with tempfile.TemporaryDirectory(prefix="tagmgr-replay-") as workdir:
        work = Path(workdir)
        with RegistryServer(work / "registry") as server, _relay(server, relayed) as address:
            run = Replay(tagmgr, server, work, set())
            versions = list(history())[: commits + 1]
            run.commit(0, versions[0], address)
            plans = [run.commit(n, v, address) for n, v in enumerate(versions[1:], start=1)]
            shown = run.command.replace(str(work), "DIR").replace(address, "REGISTRY")
    return plans, shown


@contextmanager
def _relay(server: RegistryServer, relayed: bool) -> Iterator[str]:
    with LatencyRelay(server.address, DELAY) if relayed else nullcontext() as relay:
        yield relay.address if relay is not None else server.address


def main() -> int:
    started = time.perf_counter()
    revision = sys.argv[1] if len(sys.argv) > 1 else None
    tagmgr = installed_tagmgr(revision)
    print(f"tagmgr measured: {revision or 'this checkout'}, on {interpreter(tagmgr)}")
    versions = list(history())
    sizes = (len(versions[1]), len(versions[-1]))
    print(
        f"\n## Replaying a manifest's history: {COMMITS} commits of {sizes[0]} to {sizes[1]} "
        "entries, one new or moved each\n"
    )
    print("| where | commits | plan per commit, min / median / max | CPU, median | target |")
    print("|---|---|---|---|---|")
    command = ""
    for relayed, commits in ((False, COMMITS), (True, FAR_COMMITS)):
        plans, command = replay(tagmgr, relayed, commits)
        low, middle, high = spread([p.seconds for p in plans])
        cpu = spread([p.cpu for p in plans])[1]
        where = f"through a relay, {DELAY * 1000:.0f} ms each way" if relayed else "loopback"
        target = "" if relayed else f"median <= {TARGET} s"
        print(
            f"| {where} | {commits} | {low:.2f} / {middle:.2f} / {high:.2f} s | {cpu:.2f} s "
            f"| {target} |"
        )
    print(f"\ncommand, per commit (untimed around it: the builds pushed; apply --yes): `{command}`")
    print(f"\n(the replay took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
