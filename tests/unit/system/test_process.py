"""The one subprocess wrapper: argv only, every exit code returned, secrets redacted."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.errors import CommandError
from tagmgr.registry.authfiles import AUTH_JSON_VARIABLE
from tagmgr.system import interrupt, process


def test_exit_code_and_output_are_returned_whatever_they_are() -> None:
    result = process.run(["sh", "-c", "cat; echo err >&2; exit 7"], stdin=b"in")
    assert (result.returncode, result.stdout, result.stderr) == (7, b"in", b"err\n")


def test_a_program_killed_by_a_signal_is_a_negative_code_not_an_exception() -> None:
    result = process.run(["sh", "-c", 'echo "{\\"Secret\\": \\"s3cret\\"}"; kill -9 $$'])
    assert result.returncode == -9
    assert result.stdout == b'{"Secret": "s3cret"}\n'


def test_arguments_never_go_through_a_shell() -> None:
    assert process.run(["echo", "$HOME; rm -rf /"]).stdout == b"$HOME; rm -rf /\n"


def test_missing_program_and_timeout_are_clear_errors_without_secrets() -> None:
    with pytest.raises(
        CommandError, match=r"^no-such-tool-x: command not found; is it installed\?$"
    ):
        process.run(["no-such-tool-x"])
    with pytest.raises(CommandError) as raised:
        process.run(["sh", "-c", "sleep 5", "hunter2"], timeout=0.2, secrets=["hunter2"])
    assert str(raised.value) == "sh -c sleep 5 <redacted>: still running after 0.2 s; stopped"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# A tagmgr stand-in: runs ``sleep`` through process.run on a thread, prints its pid and group.
_PARENT = """
import os, sys, threading, time
from tagmgr.system import interrupt, process
threading.Thread(target=process.run, args=(["sleep", "30"],), daemon=True).start()
while not process._running:
    time.sleep(0.01)
pid = next(iter(process._running))
print(pid, os.getpgid(pid), flush=True)
time.sleep(30)
"""


def test_a_child_has_a_group_of_its_own_and_dies_with_tagmgr_even_on_sigkill() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child, group = map(int, parent.stdout.readline().split())
        assert group == child != os.getpgid(0)
        parent.kill()
        parent.wait(10)
        assert _wait_for(lambda: not _alive(child)), "the child outlived tagmgr's SIGKILL"


def test_a_child_in_a_session_of_its_own_has_no_terminal_to_prompt_on() -> None:
    probe = "import os; print(os.getsid(0) == os.getpid() == os.getpgid(0))"
    assert process.run([sys.executable, "-c", probe], new_session=True).stdout == b"True\n"
    assert process.run([sys.executable, "-c", probe]).stdout == b"False\n"


def test_kill_all_stops_every_running_child_at_once() -> None:
    results: list[process.Completed] = []
    threads = [
        threading.Thread(target=lambda: results.append(process.run(["sleep", "30"])))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    assert _wait_for(lambda: len(process._running) == 3)
    started = time.monotonic()
    process.kill_all()
    for thread in threads:
        thread.join(10)
    assert time.monotonic() - started < 5
    assert [r.returncode for r in results] == [-signal.SIGKILL] * 3


def test_a_descriptor_is_passed_on_only_when_asked_for() -> None:
    descriptor = os.memfd_create("test")
    os.write(descriptor, b"in memory")
    try:
        path = f"/proc/self/fd/{descriptor}"
        passed = process.run(["cat", path], pass_fds=[descriptor])
        assert (passed.returncode, passed.stdout) == (0, b"in memory")
        assert process.run(["cat", path]).returncode == 1
    finally:
        os.close(descriptor)


def test_every_command_is_logged_with_secrets_redacted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="tagmgr.system.process"):
        process.run(["echo", "user", "hunter2"], secrets=["hunter2"])
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "running echo user <redacted>"
    assert re.fullmatch(r"echo user <redacted>: exit 0 after [0-9.]+ s", lines[1])


def test_a_program_stopped_by_sigterm_cleans_up(tmp_path: Path) -> None:
    cleaned = tmp_path / "cleaned"
    script = f"trap 'touch {cleaned}; exit 3' TERM; sleep 30 & wait"
    with pytest.raises(CommandError, match=r"still running after 0\.2 s; stopped$"):
        process.run(["sh", "-c", script], timeout=0.2, stop_signal=signal.SIGTERM)
    assert cleaned.exists()


def test_a_program_deaf_to_sigterm_is_killed_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process, "STOP_GRACE", 0.2)
    started = time.monotonic()
    with pytest.raises(CommandError):
        process.run(["sh", "-c", "trap '' TERM; sleep 30"], timeout=0.2, stop_signal=signal.SIGTERM)
    assert time.monotonic() - started < 5


def test_kill_all_sends_each_child_its_own_stop_signal() -> None:
    results: list[process.Completed] = []
    stops = [signal.SIGKILL, signal.SIGTERM]
    threads = [
        threading.Thread(
            target=lambda s=s: results.append(process.run(["sleep", "30"], stop_signal=s))
        )
        for s in stops
    ]
    for thread in threads:
        thread.start()
    assert _wait_for(lambda: len(process._running) == 2)
    process.kill_all()
    for thread in threads:
        thread.join(10)
    assert sorted(r.returncode for r in results) == sorted(-s for s in stops)


# Off Linux (macOS, the BSDs): no prctl, no os.pipe2.


def test_without_a_parent_death_signal_programs_still_run_and_it_is_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(process, "_prctl", None)
    monkeypatch.setattr(process, "_said_no_parent_death_signal", [])
    with caplog.at_level(logging.INFO, logger="tagmgr.system.process"):
        assert process.run(["echo", "ran"]).stdout == b"ran\n"
        assert process.run(["echo", "again"]).returncode == 0
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert said == [
        "this system has no parent-death signal (Linux's PR_SET_PDEATHSIG): a program tagmgr"
        " runs keeps running if tagmgr is killed with SIGKILL"
    ]


def test_prctl_is_looked_up_on_linux_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert process._load_prctl() is None
    monkeypatch.setattr(sys, "platform", "linux")
    assert process._load_prctl() is not None


def test_signals_are_handled_without_os_pipe2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "pipe2")
    with interrupt.handling_signals():
        signal.raise_signal(signal.SIGTERM)
        assert interrupt.requested()
        assert interrupt.exit_code() == 143
    assert not interrupt.requested()


def test_a_program_never_gets_the_credentials_tagmgr_was_given_in_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """$TAGMGR_AUTH_JSON holds every registry's credentials: no git, helper or skopeo gets it."""
    monkeypatch.setenv(AUTH_JSON_VARIABLE, '{"auths": {}}')
    monkeypatch.setenv("TAGMGR_TEST_KEPT", "kept")
    shown = process.run([sys.executable, "-c", "import os; print(sorted(os.environ))"])
    names = shown.stdout.decode()
    assert AUTH_JSON_VARIABLE not in names
    assert "TAGMGR_TEST_KEPT" in names
    given = process.run(
        [sys.executable, "-c", "import os; print(sorted(os.environ))"],
        env={AUTH_JSON_VARIABLE: "{}", "PATH": os.environ["PATH"]},
    )
    assert AUTH_JSON_VARIABLE not in given.stdout.decode()
    assert AUTH_JSON_VARIABLE in process.WITHHELD
