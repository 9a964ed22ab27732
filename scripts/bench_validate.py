"""`make bench`: loading manifests at scale, and `tagmgr validate` from process start.

Generates manifests of 50, 4,602 (1 MiB, the size cap before libyaml) and 10,000 entries in the
shape of the StarlingX manifests, validates each in this process (median of a few rounds after
one warm-up; wall-clock and CPU seconds, since a shared machine stretches the first), and times
`tagmgr validate` of the 50-entry file as a new process, which is what a pre-commit hook pays on
every commit (with tagmgr's bytecode compiled, as an installed copy has it). Then the window in
which a signal is still Python's, not tagmgr's (a SIGINT then prints a ``KeyboardInterrupt``
traceback): how long after the process starts tagmgr's handlers are in place, seen in
``/proc/PID/status`` (SIGTERM becomes caught; Python leaves it to its default), next to the
interpreter's own start-up (``python -c pass``). Prints the figures with the exact commands.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagmgr.errors import ManifestError  # noqa: E402
from tagmgr.manifest import MAX_MANIFEST_BYTES, load_manifests  # noqa: E402
from tests.support.launch import catches_sigterm  # noqa: E402

TAGMGR = str(Path(sys.executable).with_name("tagmgr"))
SIZES = (50, 4_602, 10_000)
ROUNDS = 3
START_ROUNDS = 10
WINDOW_ROUNDS = 20
TARGETS = {10_000: 1.0}
START_TARGET = 0.25


def entry(number: int) -> str:
    """227 bytes, a StarlingX entry: 4,602 of them fill the 1 MiB that was the cap."""
    return (
        f"- name: docker.io/starlingx/k8s-cni-sriov-{number:05d}\n"
        "  src_build_tag: master-centos-stable-20191203T153530Z.0\n"
        "  src_ref: https://opendev.org/starlingx/integ/commit/"
        "dac417bd31ed36d455e94db4aabe5916367654d4\n"
        f"  tag: stx.4.0-v2.2-b{number:05d}\n"
    )


def write_manifest(path: Path, entries: int) -> int:
    text = "images:\n" + "".join(entry(number) for number in range(entries))
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def time_load(path: Path) -> tuple[float, float, str]:
    """Median wall-clock and CPU seconds of load_manifests, and what it said."""
    wall, cpu = [], []
    outcome = ""
    for _ in range(ROUNDS + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            manifests = load_manifests([str(path)])
        except ManifestError as error:
            manifests, outcome = [], f"refused: {str(error).splitlines()[0]}"
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if manifests:
            outcome = f"ok ({len(manifests[0].entries)} images)"
        del manifests  # freed outside the timing: the next round measures loading only
    return statistics.median(wall[1:]), statistics.median(cpu[1:]), outcome


def time_start(path: Path) -> tuple[float, list[str]]:
    """Median seconds of ``tagmgr validate`` as a new process, with tagmgr's bytecode compiled,
    as pip compiles it at install: a checkout run with PYTHONDONTWRITEBYTECODE set (as on the
    machines this is built on) would otherwise compile every module on every run."""
    compileall.compile_dir(ROOT / "tagmgr", quiet=1)  # into tagmgr/__pycache__, which git ignores
    argv = [TAGMGR, "validate", str(path)]
    subprocess.run(argv, check=True, capture_output=True)  # warm the file cache
    timings = []
    for _ in range(START_ROUNDS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), argv


def time_signal_window(path: Path) -> tuple[list[float], list[float]]:
    """Seconds from the start of each ``tagmgr validate`` until its handlers are in place, and
    of each ``python -c pass``."""
    handled, bare = [], []
    for _ in range(WINDOW_ROUNDS):
        start = time.perf_counter()
        process = subprocess.Popen([TAGMGR, "validate", str(path)], stdout=subprocess.DEVNULL)
        while not catches_sigterm(process.pid) and process.poll() is None:
            time.sleep(0.0002)  # a spinning reader would take the core tagmgr starts on
        handled.append(time.perf_counter() - start)
        process.wait()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    return handled, bare


def main() -> int:
    print(f"size cap: {MAX_MANIFEST_BYTES} bytes; {_parser()}")
    with tempfile.TemporaryDirectory(prefix="tagmgr-bench-validate-") as workdir:
        paths = {}
        for entries in SIZES:
            paths[entries] = path = Path(workdir) / f"entries-{entries}.yaml"
            size = write_manifest(path, entries)
            seconds, cpu, outcome = time_load(path)
            target = TARGETS.get(entries)
            goal = f" (target < {target:g} s)" if target else ""
            print(
                f"load_manifests, {entries:>6} entries, {size:>8} bytes:"
                f" {seconds:.3f} s, CPU {cpu:.3f} s{goal}"
            )
            print(f"    {outcome}")
        seconds, argv = time_start(paths[50])
        print(f"tagmgr validate, 50 entries, from process start: {seconds:.3f} s", end="")
        print(f" (target < {START_TARGET:g} s; median of {START_ROUNDS})")
        print(f"    {' '.join(argv)}")
        handled, bare = time_signal_window(paths[50])
        print(
            f"a signal is tagmgr's after {_ms(handled)} (of {WINDOW_ROUNDS});"
            f" python -c pass takes {_ms(bare)}"
        )
    return 0


def _ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"


def _parser() -> str:
    import yaml  # noqa: PLC0415 - only to say which parser PyYAML offers

    return f"PyYAML {yaml.__version__}, libyaml {'yes' if yaml.__with_libyaml__ else 'no'}"


if __name__ == "__main__":
    sys.exit(main())
