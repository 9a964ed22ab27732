"""What ``make bench`` measures, and how: wall time, CPU time (a child's from ``wait4``, this
process's from ``process_time``, a server's from /proc/PID/stat), peak memory, and the requests
a registry's access log shows.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO_ROOT
from tests.support.registry import RegistryServer

BENCH_DIR = REPO_ROOT / ".bench"
_ACCESS_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/1\.1" ([0-9]{3})')
_LOG_SETTLED = 0.3  # seconds without a new access-log line: every answer has been logged


def installed_tagmgr(revision: str | None = None, python: str | None = None) -> str:
    """This checkout's ``tagmgr`` as a user has it: installed by pip (which compiles its
    bytecode) into a virtual environment of its own, of ``user_python()``, with its runtime
    dependencies only. With ``revision``, the ``tagmgr`` of that commit instead (its tree taken
    with ``git archive``), in an environment of its own: the tree before a change, measured beside
    the same capacity run. With ``python``, on that interpreter instead.

    The development environment adds start-up a user does not pay: the editable install's
    import finder, and rich and click, which httpx imports when they are there. The environments
    (under .bench/, which git ignores) are made once and kept; tagmgr is installed again each run.
    """
    source = REPO_ROOT
    python = python or user_python()
    name = _environment_name(python)
    if revision is not None:
        commit = _git("rev-parse", "--short", f"{revision}^{{commit}}").decode().strip()
        name = f"{name}-{commit}"
        source = BENCH_DIR / f"tree-{commit}"
        shutil.rmtree(source, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(_git("archive", commit))) as tree:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                tree.extractall(source, filter="data")
            else:  # Debian 12's 3.11.2; the archive is of this repository's own commit
                tree.extractall(source)  # noqa: S202
    venv = BENCH_DIR / name
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    installed = subprocess.run(
        [*pip, "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode != 0:
        raise SystemExit(f"installing tagmgr into {venv} failed:\n{installed.stderr}")
    return str(venv / "bin" / "tagmgr")


def user_python() -> str:
    """The interpreter ``pipx install`` or ``python3 -m venv`` gives a user on Debian: the
    system's ``python3``, which Debian builds with profile-guided and link-time optimisation.
    An interpreter built from source without them (pyenv's, by default) starts tagmgr about a
    fifth slower (docs/design.md). Without a system ``python3`` of 3.11 or later that can make a
    virtual environment (Debian's python3-venv, which ``make bench`` installs), this one."""
    system = shutil.which("python3", path="/usr/bin")
    if system is None or os.path.realpath(system) == os.path.realpath(sys.executable):
        return sys.executable
    probe = subprocess.run(
        [system, "-c", "import ensurepip, sys; sys.exit(sys.version_info < (3, 11))"],
        capture_output=True,
        check=False,
    )
    return system if probe.returncode == 0 else sys.executable


def _environment_name(python: str) -> str:
    """A kept environment per interpreter, named by its version and where it is: an upgraded or
    replaced interpreter gets a new one rather than one whose interpreter is gone."""
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    where = hashlib.sha256(os.path.realpath(python).encode()).hexdigest()[:8]
    return f"venv-{version}-{where}"


def interpreter(tagmgr: str) -> str:
    """The Python a ``tagmgr`` program runs on, with its version."""
    python = Path(tagmgr).parent / "python"
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0], sys._base_executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"Python {version[0]} ({version[1]})"


def _git(*args: str) -> bytes:
    argv = ["git", *args]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{done.stderr.decode()}")
    return done.stdout


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    """The client's CPU seconds, user and system."""
    registry_cpu: float
    max_rss_kib: int = 0


def server_cpu(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_process(
    argv: Sequence[str], registry: RegistryServer, env: dict[str, str] | None = None
) -> Run:
    """Run ``argv`` to completion (exit 0, or 2: plan with changes pending); raise otherwise."""
    with tempfile.TemporaryFile() as stderr:  # a pipe read only at the end could fill and block
        before = server_cpu(registry.pid)
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        registry_cpu = server_cpu(registry.pid) - before
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 2):
            stderr.seek(0)
            raise SystemExit(
                f"{shlex.join(argv)} exited {process.returncode}:\n{stderr.read().decode()}"
            )
    return Run(seconds, usage.ru_utime + usage.ru_stime, registry_cpu, usage.ru_maxrss)


def run_here(work: Callable[[], float], registry: RegistryServer) -> Run:
    """Run ``work`` in this process (it returns its own wall seconds); this process's CPU."""
    before, cpu_before = server_cpu(registry.pid), time.process_time()
    seconds = work()
    return Run(seconds, time.process_time() - cpu_before, server_cpu(registry.pid) - before)


def requests_during(registry: RegistryServer, action: Callable[[], object]) -> dict[str, int]:
    """The requests the registry logged while ``action`` ran, by kind (``HEAD manifests``);
    the registry needs its access log on."""
    before = len(_ACCESS_LINE.findall(registry.read_log()))
    action()
    lines = _settled_log(registry)
    counts: dict[str, int] = {}
    for method, path, _ in lines[before:]:
        kind = "ping" if path == "/v2/" else f"{method} {path.split('?')[0].split('/')[-2]}"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _settled_log(registry: RegistryServer) -> list[tuple[str, str, str]]:
    """The access log, once it has stopped growing (the registry logs after each answer)."""
    lines = _ACCESS_LINE.findall(registry.read_log())
    while True:
        time.sleep(_LOG_SETTLED)
        again = _ACCESS_LINE.findall(registry.read_log())
        if len(again) == len(lines):
            return lines
        lines = again


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """Min, median and max."""
    return min(values), statistics.median(values), max(values)
