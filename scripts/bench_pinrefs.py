"""`make bench`: `tagmgr pin-refs` on one large file, this tree beside the tree before issue 21.

    python scripts/bench_pinrefs.py [BASELINE]

Each file holds one reference per line (line, `image:` or `FROM` after `FROM`), every one to be
pinned, in sizes that double up to the 4 MiB a file may have: a text file, a YAML values file
and a Dockerfile. For each size, the seconds (wall clock, and CPU of the process) of a dry run
(`pin-refs --dry-run --manifest pins.yaml FILE`, the diff to /dev/null) by this tree and by BASELINE
(default: the commit before pin-refs located references in linear time, extracted with
`git archive`); how much each one's CPU seconds grew from the size before (2.0x: linear, 4.0x:
quadratic); and the ratio of their CPU seconds. The baseline stops growing once one run passes
BASELINE_LIMIT CPU seconds.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "e4e5443"  # main before this change: each location counted from the text's start
BASELINE_LIMIT = 10.0  # CPU seconds: the next size takes about four times as long
DOUBLINGS = 5
NAMES = 50


def text_line(number: int) -> str:
    return f"run registry.example/team/app{number % NAMES}:build-1 now\n"


def yaml_line(number: int) -> str:
    return f"c{number}:\n  image: registry.example/team/app{number % NAMES}:build-1\n"


def dockerfile_line(number: int) -> str:
    return f"FROM registry.example/team/app{number % NAMES}:build-1 AS s{number}\n"


@dataclass(frozen=True)
class Kind:
    file: str
    line: Callable[[int], str]
    lines: int  # the largest file's, under 4 MiB


KINDS = (
    Kind("notes.txt", text_line, 84_000),
    Kind("values.yaml", yaml_line, 64_000),
    Kind("Dockerfile", dockerfile_line, 64_000),
)


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 64
    baseline = argv[1] if len(argv) == 2 else BASELINE
    with tempfile.TemporaryDirectory(prefix="tagmgr-bench-pinrefs-") as workdir:
        work = Path(workdir)
        old = extract(baseline, work / "baseline")
        pins = work / "pins.yaml"
        entries = (
            f"- name: registry.example/team/app{n}\n  src_build_tag: build-1\n  tag: '1.0'\n"
            for n in range(NAMES)
        )
        pins.write_text("images:\n" + "".join(entries), encoding="utf-8")
        print(f"pin-refs --manifest {pins.name} FILE > /dev/null, one run each")
        print(f"this tree: {ROOT}; baseline: {baseline}" + ("" if old else " (not available)"))
        print("| file | MB | this tree s (CPU) | growth | baseline s (CPU) | growth | ratio |")
        print("|---|---|---|---|---|---|---|")
        for kind in KINDS:
            measure(kind, work, pins, old)
    return 0


def measure(kind: Kind, work: Path, pins: Path, old: Path | None) -> None:
    new_runs: list[Timed] = []
    old_runs: list[Timed] = []
    for doubling in range(DOUBLINGS):
        lines = kind.lines >> (DOUBLINGS - 1 - doubling)
        path = work / f"{lines}-{kind.file}" / kind.file
        path.parent.mkdir()
        path.write_text("".join(map(kind.line, range(lines))), encoding="utf-8")
        new_runs.append(pin_refs(ROOT, pins, path))
        if old is not None and (not old_runs or old_runs[-1].cpu < BASELINE_LIMIT):
            old_runs.append(pin_refs(old, pins, path))
        new, was = new_runs[-1], old_runs[doubling] if doubling < len(old_runs) else None
        cells = [
            kind.file,
            f"{path.stat().st_size / 1e6:.2f}",
            f"{new.wall:.2f} ({new.cpu:.2f})",
            growth(new_runs),
            f"{was.wall:.2f} ({was.cpu:.2f})" if was else "-",
            growth(old_runs) if was else "-",
            f"{was.cpu / new.cpu:.1f}" if was else "-",
        ]
        print(f"| {' | '.join(cells)} |")


def growth(runs: list[Timed]) -> str:
    return f"{runs[-1].cpu / runs[-2].cpu:.1f}x" if len(runs) > 1 else "-"


def pin_refs(tree: Path, pins: Path, path: Path) -> Timed:
    # The default baseline predates the confirmation model: a plain run was its dry run.
    dry_run = ["--dry-run", "--detailed-exitcode"] if tree == ROOT else []
    argv = [
        sys.executable,
        "-m",
        "tagmgr",
        "pin-refs",
        *dry_run,
        "--manifest",
        str(pins),
        str(path),
    ]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # Not from this checkout's directory: ``-m`` puts the working directory first on the path.
    done = subprocess.run(argv, env=env, cwd=pins.parent, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 2:  # 2: references to pin, as every line has one
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Timed(wall, cpu)


def extract(revision: str, into: Path) -> Path | None:
    """``tagmgr/`` and the schemas its files link to, as ``revision`` had them."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "tagmgr", "schemas"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:  # a shallow clone, say
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="tar")
    return into


if __name__ == "__main__":
    sys.exit(main(sys.argv))
