"""The command-line contract: exit codes, which stream gets what, JSON documents, the prompt.

Most tests call ``tagmgr.cli.main`` in-process (``tests.e2e.run_tagmgr``). A real process is used
where the process itself is the subject: the entry points, the traceback of a bug, a signal, and
``apply``'s question on a terminal (standard input is a pseudo-terminal there).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import tagmgr.commands.core
from tagmgr import __version__
from tagmgr.cli import main
from tagmgr.errors import GitVersionError
from tests.support.e2e import Run, run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

TAGMGR = (sys.executable, "-m", "tagmgr")
SCRIPT = Path(sys.executable).with_name("tagmgr")  # the console script pip installed
TIMEOUT = 30.0  # bounds every wait for a child process
QUESTION = "Create these tags? [y/N] "
BUG = "Run again with -vv for the traceback and report it.\n"
RAISE_FROM_THE_CORE = """\
import sys
import tagmgr.commands.core

def broken(*args, **kwargs):
    raise RuntimeError("boom")

tagmgr.commands.core.load_manifests = broken
from tagmgr.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default --git-cache follows XDG_CACHE_HOME: never the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(
        tmp_path / "images.yaml",
        [
            {"name": "docker.io/starlingx/a", "src_build_tag": "build-1", "tag": "v1"},
            {"name": "docker.io/starlingx/b", "src_build_tag": "build-1", "tag": "v1"},
        ],
    )


@pytest.fixture
def invalid(tmp_path: Path) -> Path:
    path = tmp_path / "invalid.yaml"
    path.write_text(
        "images:\n- name: docker.io/x/y\n  src_build_tag: b\n  tag: 1.10\n"
        "- name: docker.io/X/y\n  src_build_tag: b\n  tag: v1\n",
        encoding="utf-8",
    )
    return path


def invalid_lines(path: Path) -> str:
    return (
        f'{path}:4:8: images[0].tag: YAML reads 1.10 as a number (1.1); quote it: "1.10"\n'
        f"{path}:5:9: images[1].name: path component 'X' must be lowercase\n"
    )


def run_usage(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    """argparse leaves ``main`` by SystemExit; the console script turns that into the status."""
    with pytest.raises(SystemExit) as raised:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    assert isinstance(raised.value.code, int)
    return Run(raised.value.code, captured.out, captured.err)


def child_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "PYTHONUNBUFFERED": "1",
    }


def run_process(
    tmp_path: Path, *argv: str | Path, stdin: int = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        stdin=stdin,
        capture_output=True,
        text=True,
        env=child_env(tmp_path),
        timeout=TIMEOUT,
        check=False,
    )


# Usage and entry points


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_usage(capsys, "--version")
    assert run == Run(0, f"tagmgr {__version__}\n", "")
    assert __version__ == importlib.metadata.version("tagmgr")


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    result = run_process(tmp_path, *TAGMGR, "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"tagmgr {__version__}\n", "")


@pytest.mark.parametrize("entry", ["script", "python-m"])
def test_the_program_says_everything_before_it_skips_the_teardown(
    tmp_path: Path, manifest: Path, invalid: Path, entry: str
) -> None:
    """``run`` ends with os._exit: what was printed to a pipe must all be out by then."""
    program = (SCRIPT,) if entry == "script" else TAGMGR
    good = run_process(tmp_path, *program, "validate", "--output", "json", manifest)
    assert (good.returncode, good.stderr) == (0, "")
    assert json.loads(good.stdout)["files"] == [{"file": str(manifest), "images": 2}]
    bad = run_process(tmp_path, *program, "validate", invalid)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith(f"{invalid}:4:")


def test_a_closed_stderr_is_no_failure(tmp_path: Path, manifest: Path) -> None:
    """``tagmgr validate m.yaml 2>&-``: Python starts with no sys.stderr; run still ends well."""
    done = subprocess.run(
        [*TAGMGR, "validate", manifest],
        stdout=subprocess.PIPE,
        env=child_env(tmp_path),
        preexec_fn=lambda: os.close(2),
        timeout=TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"{manifest}: ok (2 images)\n".encode())


def test_a_reader_gone_before_the_output_is_a_failure_said_quietly(
    tmp_path: Path, manifest: Path
) -> None:
    """tagmgr validate | (exits at once): exit 1, and no 'Exception ignored' on stderr."""
    child = subprocess.Popen(
        [*TAGMGR, "validate", manifest],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(tmp_path),
    )
    assert child.stdout is not None
    assert child.stderr is not None
    child.stdout.close()
    err = child.stderr.read()
    assert (child.wait(TIMEOUT), err) == (1, b"")


def test_console_script_without_arguments_prints_help(tmp_path: Path) -> None:
    result = run_process(tmp_path, SCRIPT)
    assert (result.returncode, result.stderr) == (0, "")
    # The commands it lists come from the parser the script builds.
    assert result.stdout.startswith("usage: tagmgr [-h] [--version] COMMAND ...\n")
    assert "    schema    print a published JSON Schema" in result.stdout


@pytest.mark.parametrize(
    ("args", "mentioned"),
    [
        (["--bogus"], "unknown option --bogus"),
        (["validate", "--bogus", "{manifest}"], "--bogus"),
        (
            ["validate", "--jobs=2", "{manifest}"],
            "unknown option --jobs",
        ),  # plan's option, not validate's
        (["plan"], "required: FILE"),
        (["plan", "--output=yaml", "{manifest}"], "yaml"),
        (["plan", "--jobs=0", "{manifest}"], "argument --jobs: must be at least 1"),
        (
            ["plan", "--map-registry=docker.io=127.0.0.1:5000/evil", "{manifest}"],
            "argument --map-registry: 'docker.io=127.0.0.1:5000/evil': expected FROM=TO, "
            "two registry hosts such as docker.io=127.0.0.1:5000",
        ),
    ],
    ids=[
        "option-only",
        "unknown-option",
        "other-command-option",
        "no-files",
        "output",
        "jobs-0",
        "map-registry-path",
    ],
)
def test_usage_error_exits_64_with_usage_on_stderr(
    capsys: pytest.CaptureFixture[str], manifest: Path, args: list[str], mentioned: str
) -> None:
    """64, not argparse's 2: 2 means "changes pending". The wording is argparse's own."""
    run = run_usage(capsys, *(a.format(manifest=manifest) for a in args))
    assert (run.code, run.out) == (64, "")
    assert run.err.startswith("usage: tagmgr")
    *_, last = run.err.splitlines()
    assert last.startswith("tagmgr")
    assert ": error: " in last
    assert mentioned in last


# validate


def test_validate_ok(capsys: pytest.CaptureFixture[str], manifest: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("images: []\n", encoding="utf-8")
    run = run_tagmgr(capsys, "validate", manifest, empty)
    assert run == Run(0, f"{manifest}: ok (2 images)\n{empty}: ok (0 images)\n", "")


def test_validate_json_ok(capsys: pytest.CaptureFixture[str], manifest: Path) -> None:
    run = run_tagmgr(capsys, "validate", "--output=json", manifest)
    assert (run.code, run.err) == (0, "")
    assert run.json() == {
        "format": 1,
        "command": "validate",
        "files": [{"file": str(manifest), "images": 2}],
        "summary": {"files": 1, "images": 2},
        "problems": [],
    }


def test_validate_invalid_says_where_on_stderr_only(
    capsys: pytest.CaptureFixture[str], manifest: Path, invalid: Path
) -> None:
    run = run_tagmgr(capsys, "validate", manifest, invalid)
    assert run == Run(1, "", invalid_lines(invalid))  # no "ok" for the good file either


def test_validate_invalid_as_json(capsys: pytest.CaptureFixture[str], invalid: Path) -> None:
    run = run_tagmgr(capsys, "validate", "--output", "json", invalid)
    assert (run.code, run.err) == (1, invalid_lines(invalid))
    assert run.json() == {
        "format": 1,
        "command": "validate",
        "error": invalid_lines(invalid).rstrip("\n"),
        "problems": [
            {
                "file": str(invalid),
                "line": 4,
                "column": 8,
                "field": "images[0].tag",
                "message": 'YAML reads 1.10 as a number (1.1); quote it: "1.10"',
            },
            {
                "file": str(invalid),
                "line": 5,
                "column": 9,
                "field": "images[1].name",
                "message": "path component 'X' must be lowercase",
            },
        ],
        "summary": {"problems": 2},
    }


def test_other_user_error_as_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, manifest: Path
) -> None:
    """Not a manifest problem: the JSON document has the error and no problems."""
    message = "upstream /x commit abcd: cannot fetch"

    def failing(*args: object) -> None:
        raise GitVersionError(message)

    monkeypatch.setattr(tagmgr.commands.core, "load_manifests", failing)
    run = run_tagmgr(capsys, "plan", "--output=json", manifest)
    assert (run.code, run.err) == (1, f"tagmgr: error: {message}\n")
    assert run.json() == {
        "format": 1,
        "command": "plan",
        "error": message,
        "summary": {"problems": 0},
        "problems": [],
    }


# Bugs and interruptions


def test_unexpected_exception_is_reported_as_a_bug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, manifest: Path
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tagmgr.commands.core, "load_manifests", broken)
    run = run_tagmgr(capsys, "validate", manifest)
    assert run == Run(3, "", f"tagmgr: internal error, this is a bug: RuntimeError: boom\n{BUG}")


@pytest.mark.parametrize("verbosity", [[], ["-vv"]], ids=["quiet", "vv"])
def test_traceback_of_a_bug_only_with_vv(tmp_path: Path, verbosity: list[str]) -> None:
    result = run_process(
        tmp_path, sys.executable, "-c", RAISE_FROM_THE_CORE, "validate", *verbosity, "m.yaml"
    )
    assert (result.returncode, result.stdout) == (3, "")
    bug = f"tagmgr: internal error, this is a bug: RuntimeError: boom\n{BUG}"
    if verbosity == ["-vv"]:
        assert result.stderr.startswith(
            "tagmgr: DEBUG: unexpected error\nTraceback (most recent call last):\n"
        )
        assert result.stderr.endswith(f"RuntimeError: boom\n{bug}")
    else:
        assert result.stderr == bug


def test_keyboard_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, manifest: Path
) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tagmgr.commands.core, "load_manifests", interrupted)
    assert run_tagmgr(capsys, "plan", manifest) == Run(130, "", "tagmgr: interrupted\n")


# plan --output json and an unreachable registry


def test_plan_json_document(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = images.index()
    name = f"{registry.address}/{repo}"
    push(registry.address, repo, "build-1", image)
    push(registry.address, repo, "v0", image)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": name, "src_build_tag": "build-1", "tag": "v0"},
            {"name": name, "src_build_tag": "build-1", "tag": "v1"},
            {"name": name, "src_build_tag": "build-2", "tag": "v2"},
        ],
    )
    run = run_tagmgr(capsys, "plan", "--output=json", manifest)
    assert (run.code, run.err) == (1, "")

    def entry(index: int, source: str, tag: str, **rest: object) -> dict[str, object]:
        return {
            "file": str(manifest),
            "line": 2 + 3 * index,
            "column": 3,
            "field": f"images[{index}]",
            "entry": f"images[{index}]",
            "name": name,
            "source": f"{name}:{source}",
            "target": f"{name}:{tag}",
            "tag": tag,
            "describe": None,
            "source_digest": image.digest,
            "target_digest": None,
            "media_type": image.media_type,
            "message": None,
            **rest,
        }

    assert run.json() == {
        "format": 1,
        "command": "plan",
        "entries": [
            entry(0, "build-1", "v0", action="present", target_digest=image.digest),
            entry(1, "build-1", "v1", action="create"),
            entry(
                2,
                "build-2",
                "v2",
                action="missing-source",
                source_digest=None,
                media_type=None,
                message=f"{name}:build-2 does not exist: {repo} has no tag build-2",
            ),
        ],
        "summary": {"create": 1, "present": 1, "conflict": 0, "missing-source": 1, "error": 0},
        "problems": [
            {
                "file": str(manifest),
                "line": 8,
                "column": 3,
                "field": "images[2]",
                "message": f"missing-source: {name}:v2: {name}:build-2 does not exist: "
                f"{repo} has no tag build-2",
            }
        ],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed: nothing listens there now


def test_unreachable_registry_is_an_error_for_its_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Takes about 4 s: the client retries refused connections on the endpoint it falls back to."""
    address = f"127.0.0.1:{free_port()}"
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"name": f"{address}/x/y", "src_build_tag": "b", "tag": "v1"}]
    )
    run = run_tagmgr(capsys, "plan", manifest)
    assert run == Run(
        1,
        f"error           {address}/x/y:v1 <- b\n"
        f"                registry {address}: cannot connect to https://{address}/v2/: "
        "connection refused\n"
        "\nplan: 0 to create, 0 present, 0 conflicts, 0 missing sources, 1 errors\n"
        "\nproblems:\n"
        f"  {manifest}:2:3: images[0]: error: {address}/x/y:v1: registry {address}: cannot "
        f"connect to https://{address}/v2/: connection refused\n",
        "",
    )


# apply's question on a terminal


@dataclass(frozen=True)
class Pending:
    """One tag to create, ``repo:v1`` from ``repo:build-1``; ``tmp`` is the test's tmp_path."""

    address: str
    repo: str
    digest: str
    manifest: Path
    tmp: Path

    def tag_digest(self) -> str | None:
        return head_digest(self.address, self.repo, "v1")

    def plan_text(self) -> str:
        target = f"{self.address}/{self.repo}:v1"
        return (
            f"create          {target} <- build-1  {self.digest[:19]}\n"
            "\nplan: 1 to create, 0 present, 0 conflicts, 0 missing sources, 0 errors\n"
        )

    def created_text(self) -> str:
        target = f"{self.address}/{self.repo}:v1"
        return (
            f"created         {target} <- build-1  {self.digest[:19]}\n"
            "\napply: 1 created, 0 present, 0 failed\n"
        )


@pytest.fixture
def pending(registry: RegistryServer, repo: str, images: ImageFactory, tmp_path: Path) -> Pending:
    image = images.oci()
    push(registry.address, repo, "build-1", image)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"name": f"{registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}],
    )
    return Pending(registry.address, repo, image.digest, manifest, tmp_path)


Respond = Callable[[subprocess.Popen[bytes], int], None]


def answer(text: bytes) -> Respond:
    return lambda _process, terminal: _write_all(terminal, text)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    """Read ``fd`` until ``marker`` has been seen; fail after ``timeout`` seconds or at EOF."""
    deadline = time.monotonic() + timeout
    seen = b""
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no {marker!r} within {timeout} s; got {seen!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError(f"EOF before {marker!r}; got {seen!r}")
        seen += chunk
    return seen


def apply_on_a_terminal(pending: Pending, respond: Respond, *args: str) -> Run:
    """``tagmgr apply`` with a terminal as stdin; ``respond`` once it asks (on stderr)."""
    command = [*TAGMGR, "apply", *args, str(pending.manifest)]
    return on_a_terminal(command, QUESTION, respond, child_env(pending.tmp))


def on_a_terminal(command: list[str], question: str, respond: Respond, env: dict[str, str]) -> Run:
    """``command`` with a terminal as stdin; ``respond`` once ``question`` is on stderr."""
    controller, side = pty.openpty()
    try:
        with subprocess.Popen(
            command,
            stdin=side,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as process:
            try:
                assert process.stderr is not None
                shown = read_until(process.stderr.fileno(), question.encode(), TIMEOUT)
                respond(process, controller)
                out, rest = process.communicate(timeout=TIMEOUT)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        return Run(process.returncode, out.decode(), (shown + rest).decode())
    finally:
        os.close(side)
        os.close(controller)


@pytest.mark.parametrize("reply", [b"n\n", b"\n"], ids=["n", "enter"])
def test_apply_asks_on_a_terminal_and_no_changes_nothing(pending: Pending, reply: bytes) -> None:
    run = apply_on_a_terminal(pending, answer(reply))
    assert run.code == 1
    assert run.err == pending.plan_text() + QUESTION + "tagmgr: nothing was changed\n"
    assert pending.tag_digest() is None


def test_apply_asks_on_a_terminal_and_yes_creates(pending: Pending) -> None:
    run = apply_on_a_terminal(pending, answer(b"y\n"))
    assert (run.code, run.err) == (0, pending.plan_text() + QUESTION)
    assert run.out.endswith(pending.created_text())
    assert pending.tag_digest() == pending.digest


def test_apply_with_yes_does_not_ask(pending: Pending) -> None:
    """--yes: no question even on a terminal; the plan is not shown on stderr either."""
    controller, side = pty.openpty()
    try:
        result = run_process(pending.tmp, *TAGMGR, "apply", "--yes", pending.manifest, stdin=side)
    finally:
        os.close(side)
        os.close(controller)
    assert (result.returncode, result.stdout, result.stderr) == (0, pending.created_text(), "")
    assert pending.tag_digest() == pending.digest


def test_apply_without_a_terminal_or_yes_creates_nothing_and_fails(pending: Pending) -> None:
    """CI that forgot --yes: nothing can be asked, so nothing is created, and the job fails."""
    result = run_process(pending.tmp, *TAGMGR, "apply", pending.manifest)
    assert (result.returncode, result.stdout) == (1, pending.plan_text())
    assert result.stderr == (
        "tagmgr: error: not confirmed, and no terminal to ask on: nothing was changed; give --yes"
        " to create these tags, or --dry-run to only show it\n"
    )
    assert pending.tag_digest() is None


def test_interrupt_at_the_question_exits_130(pending: Pending) -> None:
    run = apply_on_a_terminal(pending, lambda process, _: process.send_signal(signal.SIGINT))
    assert run.code == 130
    assert run.err == (
        pending.plan_text()
        + QUESTION
        + "tagmgr: SIGINT: nothing new starts; send it again to stop at once\ntagmgr: interrupted\n"
    )
    assert pending.tag_digest() is None


def test_question_never_goes_into_stdout(pending: Pending) -> None:
    run = apply_on_a_terminal(pending, answer(b"y\n"), "--output=json")
    assert run.code == 0
    assert QUESTION not in run.out
    assert run.json()["summary"] == {
        "created": 1,
        "present": 0,
        "failed": 0,
        "conflict": 0,
        "not-started": 0,
    }
    assert QUESTION in run.err


def test_end_of_input_at_the_question_is_a_no(pending: Pending) -> None:
    run = apply_on_a_terminal(pending, answer(b"\x04"))  # VEOF on an empty line: read() gives 0
    assert pending.tag_digest() is None
    assert "internal error" not in run.err
    assert run.code == 1
    assert run.err == pending.plan_text() + QUESTION + "\ntagmgr: nothing was changed\n"
