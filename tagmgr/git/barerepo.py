"""A bare repository on disk and the one way tagmgr runs git in it.

Every git command runs non-interactively (no terminal, askpass or credential-manager prompt, no
controlling terminal for ssh), with an allow-list of transport protocols and a time limit. What
tagmgr shows of a URL or of git's messages goes through ``redact_url``: a password never shows.

git dies with tagmgr, however tagmgr ends: it gets SIGTERM when tagmgr is gone (SIGTERM, so that
it removes its lock files from the cache). Its HTTP helper, which git does not take with it,
gives up on a server silent for longer than the time limit, so none outlives tagmgr for long.
"""

from __future__ import annotations

import math
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tagmgr.errors import GitVersionError
from tagmgr.system.process import REDACTED, die_with

_GIT_ERROR = re.compile(r"(?:fatal|error): (.*)")
# scheme://user:PASSWORD@ (the password may hold '@'; the authority ends at '/', '?' or '#').
_URL_PASSWORD = re.compile(r"(?P<user>[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:)[^\s/?#]*@")
_ALLOWED_PROTOCOLS = ("file", "git", "http", "https", "ssh")
_CONFIG = {
    "protocol.allow": "never",
    **{f"protocol.{name}.allow": "always" for name in _ALLOWED_PROTOCOLS},
    "credential.interactive": "false",
    "core.hooksPath": os.devnull,  # no hook from an init template runs in the cache
}
_NO_PROMPTS = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",  # empty: no askpass program, not even core.askPass or SSH_ASKPASS
    "SSH_ASKPASS_REQUIRE": "never",
    "GCM_INTERACTIVE": "never",
}
_HELPER_GRACE = 5  # seconds past the time limit: the time limit itself reports the timeout


@dataclass(frozen=True)
class GitResult:
    status: int
    stdout: str
    stderr: str


class BareRepo:
    """A bare repository on disk and the one way tagmgr runs git in it."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self._timeout = timeout
        self._env = _environment(path, timeout)

    def run(self, *args: str, stdin: str | None = None) -> GitResult:
        """Run ``git args``; a non-zero exit is a result, not an exception."""
        # gitpython takes a tenth of a second to import: only commands that run git pay for it.
        import git  # noqa: PLC0415

        runner = git.Git(str(self.path.parent))
        with _input_file(stdin) as istream:
            try:
                status, stdout, stderr = runner.execute(
                    [runner.GIT_PYTHON_GIT_EXECUTABLE or "git", *args],
                    istream=istream,
                    with_extended_output=True,
                    with_exceptions=False,
                    kill_after_timeout=self._timeout,
                    env=self._env,
                    start_new_session=True,  # no controlling terminal: ssh cannot prompt either
                    # Signalled when the thread that starts git ends, which it does only after
                    # git: a describe's worker waits for its git.
                    preexec_fn=die_with(os.getpid(), signal.SIGTERM),
                )
            except git.GitCommandNotFound as exc:
                raise GitVersionError("git is not installed or not on PATH") from exc
        return GitResult(status, stdout, stderr)

    def output(self, *args: str) -> str:
        """Run ``git args`` and return its output; raise ``GitVersionError`` on failure."""
        result = self.run(*args)
        if result.status != 0:
            raise GitVersionError(f"git {args[0]} failed: {complaint(result.stderr)}")
        return result.stdout

    def has_commit(self, commit: str) -> bool:
        return self.run("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").status == 0

    @property
    def is_shallow(self) -> bool:
        return (self.path / "shallow").exists()


def _environment(path: Path, timeout: float) -> dict[str, str]:
    config = {
        **_CONFIG,
        # Overrides the user's own setting: the time limit governs tagmgr's git, as below.
        "http.lowSpeedLimit": "1",  # bytes a second, for at least lowSpeedTime seconds
        "http.lowSpeedTime": str(math.ceil(timeout) + _HELPER_GRACE),
    }
    return {
        **_NO_PROMPTS,
        "GIT_CONFIG_COUNT": str(len(config)),
        **{f"GIT_CONFIG_KEY_{i}": key for i, key in enumerate(config)},
        **{f"GIT_CONFIG_VALUE_{i}": value for i, value in enumerate(config.values())},
        # Pin the repository explicitly: a hook environment may carry another GIT_DIR.
        "GIT_DIR": str(path),
        "GIT_OBJECT_DIRECTORY": str(path / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
    }


@contextmanager
def _input_file(text: str | None) -> Iterator[BinaryIO | None]:
    """Standard input for git as a real file, which is what gitpython hands to the process."""
    if text is None:
        yield None
        return
    with tempfile.TemporaryFile() as file:
        file.write(text.encode())
        file.seek(0)
        yield file


def complaint(stderr: str) -> str:
    """What git said went wrong: its first ``fatal:``/``error:`` line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if found := _GIT_ERROR.match(line):
            return redact_url(found[1])
    return redact_url(lines[-1]) if lines else "no error message"


def redact_url(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it replaced.

    The manifest schema refuses such URLs; this keeps one that got through out of messages.
    """
    return _URL_PASSWORD.sub(rf"\g<user>{REDACTED}@", text)
