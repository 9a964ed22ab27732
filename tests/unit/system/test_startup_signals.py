"""A signal at any moment of a ``tagmgr`` run ends it without a traceback (issue 21: a SIGINT in
the first 50-150 ms printed ``KeyboardInterrupt``, 21 of 60 runs at random times).

``RUNS`` runs of ``tagmgr validate`` of a manifest of ``ENTRIES`` entries, which takes longer than
half a second (the program and ``python -m tagmgr`` in turn), each sent SIGINT or SIGTERM at a
random moment in its first half second: during start-up, the imports or the validation, which
stops at once (it writes nothing). Whether tagmgr's handlers were in place when the signal was
sent is read from ``/proc/PID/status``: Python leaves SIGTERM to its default action, so SIGTERM
is caught once tagmgr's entry point has run. Before that the process is the interpreter starting
up (``site`` and its imports), which no code of tagmgr's can cover: there a SIGTERM ends it by
its default action, and a SIGINT is Python's ``KeyboardInterrupt`` (``make bench`` measures that
window).
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.launch import catches_sigterm

pytestmark = pytest.mark.slow  # RUNS tagmgr processes, each signalled at a random moment

RUNS = 64
ENTRIES = 40_000  # 3.2 MB, under the 4 MiB a manifest may have
LATEST = 0.5  # seconds: the latest a signal is sent after the start
TIMEOUT = 30.0
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
THROUGH_TAGMGR = re.compile(r'File "[^"]*/tagmgr/(?!__init__\.py")')  # a frame of tagmgr's code
PROGRAMS = (
    [str(Path(sys.executable).with_name("tagmgr"))],
    [sys.executable, "-m", "tagmgr"],
)


@dataclass(frozen=True)
class Run:
    delay: float
    signum: signal.Signals
    sent: bool
    handled: bool  # tagmgr's handlers were in place when the signal was sent
    code: int
    err: str

    @property
    def clean(self) -> bool:
        """Ended by tagmgr with the signal's code, or normally; no traceback."""
        codes = {0, CODES[self.signum]} if self.handled or not self.sent else {-self.signum}
        return self.code in codes and "Traceback" not in self.err and "error" not in self.err

    @property
    def said(self) -> str:
        """What tagmgr said of the signal, if all it said is one of its two answers: stopped at
        once, or stopped once the validation ended (a signal before ``validate`` began)."""
        name = self.signum.name
        answers = (
            f"tagmgr: {name}: stopped at once\n",
            f"tagmgr: {name}: nothing new starts; send it again to stop at once\n"
            "tagmgr: interrupted\n",
        )
        return "answered" if self.err in answers else self.err


def entry(number: int) -> str:
    return f"- name: docker.io/team/app-{number:05d}\n  src_build_tag: build-1\n  tag: v{number}\n"


def run_once(argv: list[str], delay: float, signum: signal.Signals, cwd: Path) -> Run:
    process = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(delay)
        handled = catches_sigterm(process.pid)
        sent = process.poll() is None
        if sent:
            process.send_signal(signum)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Run(delay, signum, sent, handled, process.returncode, err)


def test_a_signal_at_any_moment_ends_tagmgr_without_a_traceback(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text("images:\n" + "".join(map(entry, range(ENTRIES))), encoding="utf-8")
    rng = random.Random(21)  # noqa: S311 - reproducible moments, not secrets
    runs = [
        run_once(
            [*PROGRAMS[index % 2], "validate", str(manifest)],
            rng.uniform(0, LATEST),
            (signal.SIGINT, signal.SIGTERM)[index // 2 % 2],
            tmp_path,
        )
        for index in range(RUNS)
    ]
    # A KeyboardInterrupt raised in tagmgr's code (before: while tagmgr.cli was imported)
    # shows one of its files; the interpreter's own start-up shows none.
    assert [run.err for run in runs if THROUGH_TAGMGR.search(run.err)] == []
    after_start = [run for run in runs if run.handled or not run.sent]
    assert [run for run in after_start if not run.clean] == []
    assert [run.said for run in after_start if run.sent and run.said != "answered"] == []
    before_start = [run for run in runs if run.sent and not run.handled]
    terminated = [run for run in before_start if run.signum is signal.SIGTERM]
    assert [run for run in terminated if not run.clean] == []
    # Enough runs in each stretch for the test to mean something.
    handled = [run for run in runs if run.handled and run.sent]
    assert len(handled) >= RUNS // 4, [(run.delay, run.code) for run in runs]
