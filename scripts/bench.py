"""`make bench`: tagmgr's apply and plan beside skopeo loops and bare keep-alive loops, one run.

The workload of issue 8 on one local docker-registry: 50 repositories, each with one source build
(a third OCI indexes, a third Docker schema 2 manifests, a third OCI manifests), 20 new tags each:
1,000 entries. Side by side:

- apply of the 1,000 entries; a `skopeo copy` process per entry; a bare keep-alive loop PUTting
  the same manifest bytes (one request per entry, nothing checked);
- plan of the 1,000 entries, all present; a `skopeo inspect --raw` process per entry; a bare
  keep-alive loop of the same HEADs, one after another;
- the requests a no-op plan costs, with and without --trust-existing (the registry's access log);
- peak memory (max RSS) of apply at 1,000 entries, and of plan at 1,000 and 10,000 new entries
  (an apply of 10,000 takes minutes on this machine; plan holds the same entries and actions);
- docker-registry under concurrent PUTs of one manifest into one repository.

The skopeo loops run on a sample of SAMPLE entries spread over every repository (a process per
entry costs the same each time, and 1,000 of each would take most of the bench's budget); their
per-entry figure is the sample's mean. Prints a Markdown table with the commands that made it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.oci import Image, docker_image, oci_image, oci_index  # noqa: E402
from tests.support.push import ACCEPT, push  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

TAGMGR = str(Path(sys.executable).with_name("tagmgr"))
REPOSITORIES = 50
TAGS_PER_REPOSITORY = 20
SAMPLE = 50
MEMORY_TAGS_PER_REPOSITORY = (20, 200)  # 1,000 and 10,000 entries
KINDS: tuple[Callable[[str], Image], ...] = (oci_index, docker_image, oci_image)
CONCURRENT_PUTS = 200
PUT_CONCURRENCY = (1, 4, 16)
_ACCESS_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/1\.1" ([0-9]{3})')


@dataclass(frozen=True)
class Timed:
    seconds: float
    max_rss_kib: int
    command: str


@dataclass
class Bench:
    server: RegistryServer
    workdir: Path
    images: dict[str, Image]

    @property
    def address(self) -> str:
        return self.server.address

    def manifest(self, prefix: str, tags: int) -> Path:
        lines = ["images:"]
        for repo in self.images:
            for number in range(tags):
                lines += [f"- name: {self.address}/{repo}", "  src_build_tag: build-1"]
                lines.append(f"  tag: {prefix}-{number}")
        path = self.workdir / f"{prefix}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def sample(self, prefix: str) -> list[tuple[str, str]]:
        """SAMPLE (repository, tag) pairs of a manifest made with ``prefix``, over every repo."""
        repos = list(self.images)
        return [(repos[n % len(repos)], f"{prefix}-{n // len(repos)}") for n in range(SAMPLE)]

    def requests_during(self, argv: list[str]) -> tuple[Timed, dict[str, int]]:
        before = len(self.server.read_log())
        timed = run(argv)
        time.sleep(0.5)  # the access log is written after each answer
        counts: dict[str, int] = {}
        for method, path, _ in _ACCESS_LINE.findall(self.server.read_log()[before:]):
            kind = "ping" if path == "/v2/" else f"{method} {path.split('/')[-2]}"
            counts[kind] = counts.get(kind, 0) + 1
        return timed, counts


def run(argv: list[str]) -> Timed:
    """Run ``argv`` to completion (it must succeed): wall time and the process's max RSS."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 2):  # plan exits 2 when changes are pending
        raise SystemExit(f"{shlex.join(argv)} exited {process.returncode}:\n{stderr}")
    return Timed(seconds, usage.ru_maxrss, shlex.join(argv))


def loop(argvs: list[list[str]]) -> Timed:
    start = time.perf_counter()
    for argv in argvs:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return Timed(time.perf_counter() - start, 0, shlex.join(argvs[0]) + "  # one per entry")


def bare_puts(bench: Bench, prefix: str) -> Timed:
    with httpx.Client(base_url=f"http://{bench.address}", trust_env=False) as http:
        start = time.perf_counter()
        for repo, image in bench.images.items():
            for number in range(TAGS_PER_REPOSITORY):
                http.put(
                    f"/v2/{repo}/manifests/{prefix}-{number}",
                    content=image.manifest_bytes,
                    headers={"Content-Type": image.media_type},
                ).raise_for_status()
        seconds = time.perf_counter() - start
    return Timed(seconds, 0, "httpx.Client().put(/v2/REPO/manifests/TAG, same bytes)  # in a loop")


def bare_heads(bench: Bench, prefix: str) -> Timed:
    with httpx.Client(base_url=f"http://{bench.address}", trust_env=False) as http:
        start = time.perf_counter()
        for repo in bench.images:
            tags = ["build-1", *(f"{prefix}-{n}" for n in range(TAGS_PER_REPOSITORY))]
            for tag in tags:
                http.head(f"/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
        seconds = time.perf_counter() - start
    return Timed(seconds, 0, "httpx.Client().head(/v2/REPO/manifests/TAG)  # in a loop")


def concurrent_puts(bench: Bench) -> list[str]:
    """Rows: PUTs of one index into one repository at several concurrencies, errors counted."""
    repo, image = next((r, i) for r, i in bench.images.items() if i.children)
    rows = []
    for workers in PUT_CONCURRENCY:
        start = time.perf_counter()
        good = _put_many(bench.address, repo, image, workers)
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


@dataclass(frozen=True)
class Figures:
    apply: Timed
    skopeo_copy: Timed
    bare_put: Timed
    plan: Timed
    skopeo_inspect: Timed
    bare_head: Timed
    no_op_requests: dict[str, int]
    trusting: Timed
    trusting_requests: dict[str, int]
    memory: list[Timed]
    concurrent_puts: list[str]


def main() -> int:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="tagmgr-bench-") as workdir,
        RegistryServer(Path(workdir) / "registry", access_log=True) as server,
    ):
        images = {
            f"bench/app-{n}": KINDS[n % len(KINDS)](f"bench/app-{n}") for n in range(REPOSITORIES)
        }
        for repo, image in images.items():
            push(server.address, repo, "build-1", image)
        bench = Bench(server, Path(workdir), images)
        report(bench, measure(bench))
    print(f"\n(make bench took {time.perf_counter() - started:.0f} s)")
    return 0


def measure(bench: Bench) -> Figures:
    apply_manifest = bench.manifest("a", TAGS_PER_REPOSITORY)
    address = bench.address
    apply = run([TAGMGR, "apply", "--yes", str(apply_manifest)])
    skopeo_copy = loop(
        [
            [
                *("skopeo", "copy", "--all", "--preserve-digests", "--quiet"),
                *("--src-tls-verify=false", "--dest-tls-verify=false"),
                *(f"docker://{address}/{repo}:build-1", f"docker://{address}/{repo}:{tag}"),
            ]
            for repo, tag in bench.sample("s")
        ]
    )
    bare_put = bare_puts(bench, "p")
    plan, no_op = bench.requests_during([TAGMGR, "plan", str(apply_manifest)])
    skopeo_inspect = loop(
        [
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{address}/{repo}:{tag}"]
            for repo, tag in bench.sample("a")
        ]
    )
    bare_head = bare_heads(bench, "a")
    trusting, trusting_requests = bench.requests_during(
        [TAGMGR, "plan", "--trust-existing", str(apply_manifest)]
    )
    memory = [
        run([TAGMGR, "plan", str(bench.manifest(f"new{tags}", tags))])
        for tags in MEMORY_TAGS_PER_REPOSITORY
    ]
    return Figures(
        apply,
        skopeo_copy,
        bare_put,
        plan,
        skopeo_inspect,
        bare_head,
        no_op,
        trusting,
        trusting_requests,
        memory,
        concurrent_puts(bench),
    )


def report(bench: Bench, figures: Figures) -> None:
    entries = REPOSITORIES * TAGS_PER_REPOSITORY

    def ms(timed: Timed, count: int = entries) -> float:
        return timed.seconds / count * 1000

    apply, copy, put = ms(figures.apply), ms(figures.skopeo_copy, SAMPLE), ms(figures.bare_put)
    plan, inspect = ms(figures.plan), ms(figures.skopeo_inspect, SAMPLE)
    head = ms(figures.bare_head)
    small, large = figures.memory
    sizes = [REPOSITORIES * tags for tags in MEMORY_TAGS_PER_REPOSITORY]
    print(
        f"{entries} entries in {REPOSITORIES} repositories, docker-registry on {bench.address}; "
        f"skopeo loops on a sample of {SAMPLE} entries\n"
    )
    print("| measure | per entry | ratio | target |")
    print("|---|---|---|---|")
    print(f"| tagmgr apply | {apply:.1f} ms | | |")
    print(f"| skopeo copy loop | {copy:.1f} ms | {copy / apply:.1f}x apply | >= 10x |")
    print(f"| bare keep-alive PUT loop | {put:.1f} ms | {put / apply:.2f}x apply | >= 1x |")
    print(f"| tagmgr plan (all present) | {plan:.1f} ms | | |")
    print(f"| skopeo inspect loop | {inspect:.1f} ms | {inspect / plan:.1f}x plan | >= 15x |")
    print(f"| bare keep-alive HEAD loop | {head:.1f} ms | {plan / head:.2f} plan/loop | <= 0.5 |")
    print(f"| no-op plan, requests | {_counts(figures.no_op_requests)} | | |")
    print(
        f"| no-op plan --trust-existing, requests | {_counts(figures.trusting_requests)} | | "
        f"1 per repository |"
    )
    print(f"| apply of {entries}, peak memory | {figures.apply.max_rss_kib / 1024:.0f} MiB | | |")
    print(
        f"| plan of {sizes[0]} / {sizes[1]} new entries, peak memory | "
        f"{small.max_rss_kib / 1024:.0f} / {large.max_rss_kib / 1024:.0f} MiB | "
        f"{large.max_rss_kib / small.max_rss_kib:.2f}x | <= 2x |"
    )
    print(f"\ndocker-registry, {CONCURRENT_PUTS} PUTs of one index into one repository:\n")
    print("| concurrency | time | answers not 201 with the sent digest |")
    print("|---|---|---|")
    for row in figures.concurrent_puts:
        print(row)
    print("\ncommands (REGISTRY and DIR stand for this run's):")
    named = {
        "apply": figures.apply,
        "skopeo copy": figures.skopeo_copy,
        "bare PUT": figures.bare_put,
        "plan": figures.plan,
        "skopeo inspect": figures.skopeo_inspect,
        "bare HEAD": figures.bare_head,
        "--trust-existing": figures.trusting,
        "memory": large,
    }
    for name, timed in named.items():
        command = timed.command.replace(bench.address, "REGISTRY")
        print(f"  {name}: {command.replace(str(bench.workdir), 'DIR')}")


def _counts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return f"{total} ({', '.join(f'{n} {kind}' for kind, n in sorted(counts.items()))})"


if __name__ == "__main__":
    sys.exit(main())
