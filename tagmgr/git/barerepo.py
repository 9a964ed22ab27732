"""A bare repository on disk and the one way tagmgr runs git in it.

git runs through ``system.process``, the only subprocess boundary: in a process group of its own,
with a time limit, and stopped with SIGTERM (so that it removes its lock files from the cache)
when the limit passes, when a second Ctrl-C comes, or, on Linux, when tagmgr dies. It runs
non-interactively (no terminal, askpass or credential-manager prompt) and with an allow-list of
transport protocols. What tagmgr shows of a URL or of git's messages goes through ``redact_url``:
a password never shows, in messages and debug logs alike.

Only ``fetch`` reaches the upstream. In a partial clone git would otherwise fetch a missing
object the moment any command reads it (a lazy fetch): a presence check would bring a new commit
in on its own, without the tags fetched beside it, and trees with it. ``GIT_NO_LAZY_FETCH=1``
turns that off; every other command is also refused every transport, so that a git too old to
know the variable fails its lazy fetch instead of making it.

git's HTTP helper, which git does not take with it, gives up on a server silent for longer than
the time limit, so none outlives tagmgr for long.
"""

from __future__ import annotations

import math
import os
import re
import signal
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tagmgr.errors import CommandError, GitVersionError
from tagmgr.system import process

_GIT_ERROR = re.compile(r"(?:fatal|error): (.*)")
# scheme://user:PASSWORD@ (the password may hold '@'; the authority ends at '/', '?' or '#').
_URL_PASSWORD = re.compile(
    r"(?P<user>[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:)(?P<password>[^\s/?#]*)@"
)
_ALLOWED_PROTOCOLS = ("file", "git", "http", "https", "ssh")
_CONFIG = {
    "protocol.allow": "never",
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
        self._local = _environment(path, _CONFIG)
        self._network = _environment(path, _network_config(timeout))

    def run(self, *args: str, stdin: str | None = None) -> GitResult:
        """Run ``git args`` on what the clone holds; a non-zero exit is a result, not an error."""
        return self._git(args, self._local, stdin)

    def fetch(self, *args: str) -> GitResult:
        """Run ``git fetch args``: the one command that reaches the upstream."""
        return self._git(("fetch", *args), self._network, None)

    def output(self, *args: str) -> str:
        """Run ``git args`` and return its output; raise ``GitVersionError`` on failure."""
        result = self.run(*args)
        if result.status != 0:
            raise GitVersionError(f"git {args[0]} failed: {complaint(result.stderr)}")
        return result.stdout.removesuffix("\n")

    def find_commits(self, hashes: Collection[str]) -> dict[str, str]:
        """The full hash of each commit hash, whole or abbreviated, the clone holds, in one git
        call; one missing or ambiguous is left out.

        git reads a name as a branch or tag before it reads it as an abbreviated hash: an
        upstream tag named ``1499d2c`` (or ``2019``) would stand for another commit, silently.
        A hash found that does not begin with the one asked for is such a name's: the hash is
        then looked up among the objects alone."""
        hashes = list(hashes)
        found = zip(hashes, self._peeled(f"{name}^{{commit}}" for name in hashes), strict=True)
        commits = {}
        for name, line in found:
            if line.endswith(" missing"):
                continue
            if line.startswith(name.lower()):
                commits[name] = line
            elif commit := self._object_named(name):
                commits[name] = commit
        return commits

    def _object_named(self, prefix: str) -> str | None:
        """The one commit whose hash (or whose tag object's) begins with ``prefix``, whatever
        the refs are named; None when there is none, or several."""
        objects = self.run("rev-parse", f"--disambiguate={prefix}").stdout.split()
        peeled = self._peeled(f"{o}^{{commit}}" for o in objects) if objects else []
        commits = {line for line in peeled if not line.endswith(" missing")}
        return commits.pop() if len(commits) == 1 else None

    def _peeled(self, names: Iterable[str]) -> list[str]:
        """``git cat-file --batch-check`` of ``names``: a hash, or ``NAME missing``, each."""
        result = self.run(
            "cat-file", "--batch-check=%(objectname)", stdin="".join(f"{n}\n" for n in names)
        )
        if result.status != 0:
            raise GitVersionError(f"git cat-file failed: {complaint(result.stderr)}")
        return result.stdout.splitlines()

    @property
    def is_shallow(self) -> bool:
        return (self.path / "shallow").exists()

    def _git(self, args: tuple[str, ...], env: Mapping[str, str], stdin: str | None) -> GitResult:
        try:
            done = process.run(
                ["git", *args],
                stdin=None if stdin is None else stdin.encode(),
                env=env,
                timeout=self._timeout,
                secrets=[m["password"] for arg in args for m in _URL_PASSWORD.finditer(arg)],
                stop_signal=signal.SIGTERM,
                new_session=True,  # no terminal: ssh cannot prompt on it either
            )
        except CommandError as exc:
            raise GitVersionError(str(exc)) from exc
        text = [out.decode(errors="replace") for out in (done.stdout, done.stderr)]
        return GitResult(done.returncode, *text)


def _network_config(timeout: float) -> dict[str, str]:
    return {
        **_CONFIG,
        **{f"protocol.{name}.allow": "always" for name in _ALLOWED_PROTOCOLS},
        # Overrides the user's own setting: the time limit governs tagmgr's git, as below.
        "http.lowSpeedLimit": "1",  # bytes a second, for at least lowSpeedTime seconds
        "http.lowSpeedTime": str(math.ceil(timeout) + _HELPER_GRACE),
    }


def _environment(path: Path, config: Mapping[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "LC_ALL": "C",  # git's messages untranslated: ``complaint`` reads them
        "LANGUAGE": "C",
        **_NO_PROMPTS,
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_CONFIG_COUNT": str(len(config)),
        **{f"GIT_CONFIG_KEY_{i}": key for i, key in enumerate(config)},
        **{f"GIT_CONFIG_VALUE_{i}": value for i, value in enumerate(config.values())},
        # Pin the repository explicitly: a hook environment may carry another GIT_DIR.
        "GIT_DIR": str(path),
        "GIT_OBJECT_DIRECTORY": str(path / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
    }


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
    return _URL_PASSWORD.sub(rf"\g<user>{process.REDACTED}@", text)
