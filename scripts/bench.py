"""`make bench`: tagmgr's plan and apply against the registry's own capacity, in one run.

    python scripts/bench.py [REVISION]

With REVISION (a commit, say ``main``), the tagmgr of that commit is measured instead of this
checkout's, beside the same capacity runs: the figures before a change.

The workload of issue 8 on one local docker-registry: 50 repositories, each with one source build
(a third OCI indexes, a third Docker schema 2 manifests, a third OCI manifests), 20 tags each:
1,000 entries. Each figure has its yardstick measured beside it, in the same rounds:

- the capacity run: the fewest requests the same work needs (plan: one tag list per repository
  and one HEAD per reference; apply: one PUT and one verifying HEAD per tag), from CONCURRENCY
  keep-alive `http.client` threads (tests/support/capacity.py), as many as tagmgr has in flight
  (its default --jobs). tagmgr / capacity is the figure that matters: the registry's limit on
  this machine, at this moment, whatever the machine's speed;
- ROUNDS rounds, who goes first alternating; min and median of each, and of the ratio round by
  round. The CPU of tagmgr (from wait4), of the capacity run (this process) and of
  docker-registry (/proc/PID/stat), per request, in the same runs;
- the requests each command sends, counted from the registry's access log in runs of their own,
  outside the timed rounds;
- `skopeo inspect` / `skopeo copy` loops on a sample of SAMPLE entries (a process per entry
  costs the same each time);
- the same through a relay adding DELAY seconds each way (tests/support/latency.py), on
  FAR_REPOSITORIES x FAR_TAGS entries: a registry across a network, where concurrency,
  connection reuse and request count decide;
- peak memory of apply at 1,000 entries and of plan at 1,000 and 10,000 new entries;
- docker-registry under concurrent PUTs of one manifest into one repository.

tagmgr is installed as a user installs it (tests/support/measure.py). Prints
Markdown tables with the commands that made them.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.capacity import Call, Capacity, apply_work, plan_work  # noqa: E402
from tests.support.latency import LatencyRelay  # noqa: E402
from tests.support.measure import (  # noqa: E402
    Run,
    installed_tagmgr,
    interpreter,
    requests_during,
    run_here,
    run_process,
    spread,
    user_python,
)
from tests.support.oci import Image, docker_image, oci_image, oci_index  # noqa: E402
from tests.support.push import push  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

REPOSITORIES = 50
TAGS_PER_REPOSITORY = 20
CONCURRENCY = 4  # tagmgr's default --jobs
ROUNDS = 5
SAMPLE = 50
DELAY = 0.025
FAR_REPOSITORIES, FAR_TAGS, FAR_ROUNDS, FAR_SAMPLE = 10, 10, 3, 10
MEMORY_TAGS_PER_REPOSITORY = (20, 200)  # 1,000 and 10,000 entries
KINDS: tuple[Callable[[str], Image], ...] = (oci_index, docker_image, oci_image)
CONCURRENT_PUTS = 200
PUT_CONCURRENCY = (1, 4, 16)
TARGET = 1.2


@dataclass
class Bench:
    server: RegistryServer
    workdir: Path
    images: dict[str, Image]
    tagmgr_path: str
    commands: dict[str, str] = field(default_factory=dict)

    def manifest(self, address: str, repos: Sequence[str], tags: Sequence[str], name: str) -> Path:
        lines = ["images:"]
        for repo in repos:
            for tag in tags:
                lines += [f"- name: {address}/{repo}", "  src_build_tag: build-1", f"  tag: {tag}"]
        path = self.workdir / f"{name}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def tagmgr(self, label: str, *args: str | Path) -> Run:
        argv = [self.tagmgr_path, *map(str, args)]
        self.commands.setdefault(label, self._shown(shlex.join(argv)))
        return run_process(argv, self.server)

    def capacity(self, address: str, work: list[list[Call]]) -> Run:
        return run_here(lambda: Capacity(address, CONCURRENCY).run(work), self.server)

    def loop(self, label: str, argvs: list[list[str]]) -> float:
        """Seconds per entry of one process per entry."""
        self.commands.setdefault(label, self._shown(shlex.join(argvs[0])) + "  # one per entry")
        start = time.perf_counter()
        for argv in argvs:
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        return (time.perf_counter() - start) / len(argvs)

    def _shown(self, command: str) -> str:
        return command.replace(str(self.workdir), "DIR").replace(self.tagmgr_path, "tagmgr")


@dataclass(frozen=True)
class Site:
    """Where a comparison runs: ``address`` (the registry, or a relay to it) and its entries."""

    name: str
    address: str
    repos: list[str]
    tags: int
    rounds: int
    sample: int

    @property
    def entries(self) -> int:
        return len(self.repos) * self.tags


@dataclass
class Rounds:
    """One comparison, round by round: tagmgr's runs beside the capacity run's."""

    tagmgr: list[Run] = field(default_factory=list)
    capacity: list[Run] = field(default_factory=list)

    def add(self, ours: Callable[[], Run], theirs: Callable[[], Run], number: int) -> None:
        """One round; odd rounds run the capacity first."""
        if number % 2:
            self.capacity.append(theirs())
            self.tagmgr.append(ours())
        else:
            self.tagmgr.append(ours())
            self.capacity.append(theirs())

    def ratios(self) -> list[float]:
        return [t.seconds / c.seconds for t, c in zip(self.tagmgr, self.capacity, strict=True)]


@dataclass
class Comparison:
    site: Site
    present: Path
    """The manifest of entries all present, which every plan round reads."""
    plan_work: list[list[Call]]
    """What that plan needs, as the capacity run sends it."""
    plan: Rounds = field(default_factory=Rounds)
    apply: Rounds = field(default_factory=Rounds)
    plan_calls: int = 0
    apply_calls: int = 0
    skopeo: tuple[float, float] = (0.0, 0.0)
    """Seconds per entry of `skopeo inspect`, then of `skopeo copy`."""


def tags(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{n}" for n in range(count)]


def compare(bench: Bench, site: Site) -> Comparison:
    """Plan (of ``a-*``, present) and apply (of new tags) beside their capacity runs."""
    images = {repo: bench.images[repo] for repo in site.repos}
    done = Comparison(
        site,
        bench.manifest(site.address, site.repos, tags("a", site.tags), f"{site.name}-a"),
        plan_work(images, tags("a", site.tags)),
    )
    done.plan_calls = sum(map(len, done.plan_work))
    for number in range(site.rounds):
        prefix = f"{site.name}{number}"
        fresh = bench.manifest(site.address, site.repos, tags(prefix, site.tags), prefix)
        apply_calls = apply_work(images, tags(f"{prefix}c", site.tags))
        done.apply_calls = sum(map(len, apply_calls))
        plan_round(bench, done, done.plan, number)
        done.apply.add(
            lambda: bench.tagmgr(f"{site.name} apply", "apply", "--yes", fresh),  # noqa: B023
            lambda: bench.capacity(site.address, apply_calls),  # noqa: B023
            number,
        )
    done.skopeo = skopeo_loops(bench, site)
    return done


def plan_round(bench: Bench, done: Comparison, rounds: Rounds, number: int) -> None:
    """One round of ``done``'s plan by ``bench``'s tagmgr, beside its capacity run."""
    rounds.add(
        lambda: bench.tagmgr(f"{done.site.name} plan", "plan", done.present),
        lambda: bench.capacity(done.site.address, done.plan_work),
        number,
    )


def plan_on(tagmgr: str, bench: Bench, done: Comparison) -> Rounds:
    """``done``'s plan again, by ``tagmgr`` installed on another interpreter, beside capacity
    runs of its own."""
    other, rounds = replace(bench, tagmgr_path=tagmgr), Rounds()
    for number in range(done.site.rounds):
        plan_round(other, done, rounds, number)
    return rounds


def count_requests(bench: Bench) -> dict[str, dict[str, int]]:
    """Untimed: the requests of apply (1,000 new), then of a no-op apply and the no-op plans of
    the same file."""
    every = list(bench.images)
    manifest = bench.manifest(bench.server.address, every, tags("a", TAGS_PER_REPOSITORY), "a")

    def counted(label: str, *args: str | Path) -> dict[str, int]:
        return requests_during(bench.server, lambda: bench.tagmgr(label, *args))

    return {
        "apply": counted("apply", "apply", "--yes", manifest),
        "no-op apply": counted("apply again", "apply", "--yes", manifest),
        "no-op plan": counted("plan", "plan", manifest),
        "no-op plan --trust-existing": counted(
            "--trust-existing", "plan", "--trust-existing", manifest
        ),
    }


def skopeo_loops(bench: Bench, site: Site) -> tuple[float, float]:
    """Seconds per entry of `skopeo inspect` (of present tags) and `skopeo copy` (new ones)."""
    picked = [(site.repos[n % len(site.repos)], n // len(site.repos)) for n in range(site.sample)]
    address = site.address
    inspect = bench.loop(
        f"{site.name} skopeo inspect",
        [
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{address}/{repo}:a-{n}"]
            for repo, n in picked
        ],
    )
    copy = bench.loop(
        f"{site.name} skopeo copy",
        [
            [
                *("skopeo", "copy", "--all", "--preserve-digests", "--quiet"),
                *("--src-tls-verify=false", "--dest-tls-verify=false"),
                f"docker://{address}/{repo}:build-1",
                f"docker://{address}/{repo}:{site.name}s-{n}",
            ]
            for repo, n in picked
        ],
    )
    return inspect, copy


def concurrent_puts(bench: Bench) -> list[str]:
    """Rows: PUTs of one index into one repository at several concurrencies, errors counted."""
    repo, image = next((r, i) for r, i in bench.images.items() if i.children)
    rows = []
    for workers in PUT_CONCURRENCY:
        start = time.perf_counter()
        good = _put_many(bench.server.address, repo, image, workers)
        per_put = (time.perf_counter() - start) / CONCURRENT_PUTS * 1000
        rows.append(
            f"| {workers} at once | {per_put:.1f} ms per PUT | "
            f"{CONCURRENT_PUTS - good} errors of {CONCURRENT_PUTS} |"
        )
    return rows


def _put_many(address: str, repo: str, image: Image, workers: int) -> int:
    """PUT ``image`` under CONCURRENT_PUTS tags, ``workers`` at once; count the right answers."""
    local = threading.local()

    def put(number: int) -> bool:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=f"http://{address}", trust_env=False)
        answer = local.http.put(
            f"/v2/{repo}/manifests/c{workers}-{number}",
            content=image.manifest_bytes,
            headers={"Content-Type": image.media_type},
        )
        return (
            bool(answer.status_code == 201)
            and answer.headers.get("Docker-Content-Digest") == image.digest
        )

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(put, range(CONCURRENT_PUTS)))


@dataclass
class Results:
    counts: dict[str, dict[str, int]]
    near: Comparison
    far: Comparison
    memory: list[Run]
    puts: list[str]
    development: tuple[str, Rounds] | None
    """Plan on the interpreter of the development environment, when the user's is another."""


def main() -> int:
    started = time.perf_counter()
    revision = sys.argv[1] if len(sys.argv) > 1 else None
    tagmgr = installed_tagmgr(revision)
    print(f"tagmgr measured: {revision or 'this checkout'}, on {interpreter(tagmgr)}")
    with (
        tempfile.TemporaryDirectory(prefix="tagmgr-bench-") as workdir,
        RegistryServer(Path(workdir) / "registry", access_log=True) as server,
    ):
        images = {
            f"bench/app-{n}": KINDS[n % len(KINDS)](f"bench/app-{n}") for n in range(REPOSITORIES)
        }
        for repo, image in images.items():
            push(server.address, repo, "build-1", image)
        bench = Bench(server, Path(workdir), images, tagmgr)
        repos = list(images)
        counts = count_requests(bench)
        near = compare(
            bench, Site("near", server.address, repos, TAGS_PER_REPOSITORY, ROUNDS, SAMPLE)
        )
        development = None
        if user_python() != sys.executable:
            other = installed_tagmgr(revision, sys.executable)
            development = (interpreter(other), plan_on(other, bench, near))
        memory = [
            bench.tagmgr(
                "memory",
                "plan",
                bench.manifest(server.address, repos, tags(f"new{count}", count), f"new{count}"),
            )
            for count in MEMORY_TAGS_PER_REPOSITORY
        ]
        puts = concurrent_puts(bench)
        with LatencyRelay(server.address, DELAY) as relay:
            far_repos = repos[:FAR_REPOSITORIES]
            far = compare(
                bench, Site("far", relay.address, far_repos, FAR_TAGS, FAR_ROUNDS, FAR_SAMPLE)
            )
        report(bench, Results(counts, near, far, memory, puts, development))
    print(f"\n(make bench took {time.perf_counter() - started:.0f} s)")
    return 0


def report(bench: Bench, results: Results) -> None:
    near, far, counts = results.near, results.far, results.counts
    requests = (sum(counts["no-op plan"].values()), sum(counts["apply"].values()))
    print(
        f"## {near.site.entries} entries in {REPOSITORIES} repositories, docker-registry on "
        f"loopback\n\n{ROUNDS} rounds, who goes first alternating: min / median of each (and "
        f"max of the ratio); {CONCURRENCY} requests in flight in the capacity run, as in tagmgr "
        f"(--jobs {CONCURRENCY}); CPU per request with tagmgr's start-up included\n"
    )
    _comparison(near, requests)
    if results.development is not None:
        _development(*results.development)
    print("\n## Requests, counted in runs of their own (the registry's access log)\n")
    print("| run | requests |")
    print("|---|---|")
    for name, counted in counts.items():
        print(f"| {name} ({near.site.entries} entries) | {_counts(counted)} |")
    small, large = results.memory
    sizes = [REPOSITORIES * count for count in MEMORY_TAGS_PER_REPOSITORY]
    apply_rss = max(r.max_rss_kib for r in near.apply.tagmgr)
    print("\n## Peak memory (max RSS)\n")
    print(f"- apply of {near.site.entries}: {apply_rss / 1024:.0f} MiB")
    print(
        f"- plan of {sizes[0]} / {sizes[1]} new entries: {small.max_rss_kib / 1024:.0f} / "
        f"{large.max_rss_kib / 1024:.0f} MiB ({large.max_rss_kib / small.max_rss_kib:.2f}x, "
        "target <= 2x)"
    )
    print(
        f"\n## Through a relay adding {DELAY * 1000:.0f} ms each way: {far.site.entries} entries "
        f"in {FAR_REPOSITORIES} repositories\n\n{FAR_ROUNDS} rounds; skopeo loops on "
        f"{FAR_SAMPLE} entries\n"
    )
    _comparison(far, None)
    print(f"\n## docker-registry, {CONCURRENT_PUTS} PUTs of one index into one repository\n")
    print("| concurrency | time | answers not 201 with the sent digest |")
    print("|---|---|---|")
    for row in results.puts:
        print(row)
    _commands(bench)


def _comparison(done: Comparison, requests: tuple[int, int] | None) -> None:
    """The table of one site; with tagmgr's ``requests`` (plan, apply), the targets and CPU per
    request too (loopback: through the relay, the time is the round trips')."""
    cpu = requests is not None
    extra = " tagmgr's CPU per request | registry's CPU per request |" if cpu else ""
    print("| run | wall min / median | ratio to capacity min / median / max | target |" + extra)
    print("|---|---|---|---|" + ("---|---|" if cpu else ""))
    runs = (
        ("plan, all present", done.plan, done.plan_calls, requests[0] if requests else 0),
        ("apply, all new", done.apply, done.apply_calls, requests[1] if requests else 0),
    )
    for name, rounds, calls, ours in runs:
        low, middle, high = spread(rounds.ratios())
        ratio = f"{low:.2f}x / {middle:.2f}x / {high:.2f}x"
        for label, timed, count, shown in (
            (f"tagmgr {name}", rounds.tagmgr, ours, (ratio, f"<= {TARGET}x" if cpu else "")),
            (f"capacity run, {calls} requests", rounds.capacity, calls, ("", "")),
        ):
            line = f"| {label} | {_seconds(timed)} | {shown[0]} | {shown[1]} |"
            if cpu:
                line += f" {_per_request(timed, count, lambda r: r.cpu)} |"
                line += f" {_per_request(timed, count, lambda r: r.registry_cpu)} |"
            print(line)
    inspect, copy = done.skopeo
    plan_entry = spread([r.seconds for r in done.plan.tagmgr])[1] / done.site.entries
    apply_entry = spread([r.seconds for r in done.apply.tagmgr])[1] / done.site.entries
    blank = " | |" if cpu else ""
    print(
        f"| skopeo inspect loop, {done.site.sample} entries | {inspect * 1000:.1f} ms per entry "
        f"| {inspect / plan_entry:.1f}x tagmgr plan's | |{blank}"
    )
    print(
        f"| skopeo copy loop, {done.site.sample} entries | {copy * 1000:.1f} ms per entry | "
        f"{copy / apply_entry:.1f}x tagmgr apply's | |{blank}"
    )


def _development(python: str, rounds: Rounds) -> None:
    low, middle, high = spread(rounds.ratios())
    print(
        f"\nThe same plan by tagmgr installed on {python}, the development environment's"
        " interpreter, beside capacity runs of its own:\n"
    )
    print("| run | wall min / median | ratio to capacity min / median / max |")
    print("|---|---|---|")
    print(
        f"| tagmgr plan, all present | {_seconds(rounds.tagmgr)} | "
        f"{low:.2f}x / {middle:.2f}x / {high:.2f}x |"
    )
    print(f"| capacity run | {_seconds(rounds.capacity)} | |")


def _seconds(runs: list[Run]) -> str:
    low, middle, _ = spread([r.seconds for r in runs])
    return f"{low:.2f} / {middle:.2f} s"


def _per_request(runs: list[Run], requests: int, cpu: Callable[[Run], float]) -> str:
    return f"{spread([cpu(r) / requests * 1000 for r in runs])[1]:.2f} ms"


def _commands(bench: Bench) -> None:
    print("\n## Commands (DIR and the addresses stand for this run's)\n")
    for name, command in bench.commands.items():
        print(f"- {name}: `{command}`")
    print(
        f"- capacity runs: tests/support/capacity.py, {CONCURRENCY} threads, each on one "
        "keep-alive http.client connection: plan = GET /v2/REPO/tags/list per repository, then "
        "HEAD /v2/REPO/manifests/REF per reference; apply = PUT /v2/REPO/manifests/TAG, then "
        "HEAD of it, per tag, repositories interleaved"
    )
    print(
        "- CPU: tagmgr's ru_utime + ru_stime from wait4; the capacity run's from "
        "time.process_time(); docker-registry's utime + stime from /proc/PID/stat, before and "
        "after each run"
    )


def _counts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return f"{total} ({', '.join(f'{n} {kind}' for kind, n in sorted(counts.items()))})"


if __name__ == "__main__":
    sys.exit(main())
