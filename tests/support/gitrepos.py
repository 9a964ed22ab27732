"""Real git repositories for tests, built with the git CLI at fixed dates, and a real
``git daemon`` on 127.0.0.1 to serve them.

Every commit gets the next minute after 2020-01-01 00:00 UTC as author and committer date, so the
same script always builds the same hashes. Git runs without the user's or the system's config.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.registry import _free_port

START = 1577836800  # 2020-01-01T00:00:00Z
DAEMON_PORT_ATTEMPTS = 3
DAEMON_START_TIMEOUT = 10.0
ISOLATED_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Upstream Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.org",
    "GIT_COMMITTER_NAME": "Upstream Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.org",
}


def run_git(
    args: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] = {}, stdin: bytes = b""
) -> str:
    """Run git without the user's config; return its output without the final newline."""
    done = subprocess.run(
        ["git", *args],  # noqa: S607 - git from PATH, as tagmgr runs it
        cwd=cwd,
        env={**os.environ, **ISOLATED_ENV, **env},
        input=stdin,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: exit {done.returncode}: {done.stderr.decode()}")
    return done.stdout.decode().removesuffix("\n")


def isolate_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's git config out of the code under test."""
    for name, value in ISOLATED_ENV.items():
        monkeypatch.setenv(name, value)


class UpstreamRepo:
    """A repository with a working tree, grown commit by commit on a fixed clock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = START
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str, stdin: bytes = b"") -> str:
        """Run git in the working tree at the current clock; return its output."""
        date = f"@{self.clock} +0000"
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        return run_git(args, cwd=self.path, env=env, stdin=stdin)

    def commit(self, message: str) -> str:
        """An empty commit on the current branch; returns its full hash."""
        self.clock += 60
        self.git("commit", "--quiet", "--allow-empty", f"--message={message}")
        return self.head()

    def commit_file(self, name: str, text: str) -> str:
        """A commit that writes ``name`` (so it has a tree and a blob); returns its full hash."""
        (self.path / name).write_text(text, encoding="utf-8")
        self.git("add", "--", name)
        return self.commit(f"write {name}")

    def commits(self, *messages: str) -> list[str]:
        return [self.commit(message) for message in messages]

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, rev: str = "HEAD", *, annotated: bool = False) -> None:
        self.clock += 60
        options = ["--annotate", f"--message=release {name}"] if annotated else []
        self.git("tag", *options, name, rev)

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "--quiet", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "--quiet", name)

    def merge(self, branch: str) -> str:
        self.clock += 60
        self.git("merge", "--quiet", "--no-ff", f"--message=merge {branch}", branch)
        return self.head()

    def bulk_import(self, *, files: int, commits: int) -> None:
        """On top of HEAD, add a commit of ``files`` small files, then ``commits`` empty ones.

        ``git fast-import`` writes tens of thousands of objects in about a second: the files
        make git print longer abbreviations, the commits make some share a short hash prefix.
        """
        parts = [
            b"blob\nmark :%d\ndata %d\n%d\n" % (i + 1, len(b"%d" % i) + 1, i) for i in range(files)
        ]
        parts.append(self._import_commit(f"{files} files") + b"from %s\n" % self.head().encode())
        parts.extend(b"M 100644 :%d f/%d\n" % (i + 1, i) for i in range(files))
        parts.extend(self._import_commit(f"change {n}") for n in range(commits))
        self.git("fast-import", "--quiet", stdin=b"".join(parts))
        self.git("reset", "--quiet")  # the index follows the imported branch

    def _import_commit(self, message: str) -> bytes:
        self.clock += 60
        body = message.encode()
        return b"commit refs/heads/main\ncommitter %s <%s> %d +0000\ndata %d\n%s\n" % (
            ISOLATED_ENV["GIT_COMMITTER_NAME"].encode(),
            ISOLATED_ENV["GIT_COMMITTER_EMAIL"].encode(),
            self.clock,
            len(body),
            body,
        )


class GitDaemon:
    """``git daemon`` on 127.0.0.1 serving every repository under ``base`` (read-only).

    ``allow_filter`` is the server's ``uploadpack.allowFilter``: whether it answers partial-clone
    requests, as GitHub, GitLab and Gerrit do. A context manager: leaving stops the daemon.
    """

    def __init__(self, base: Path, *, allow_filter: bool) -> None:
        self.base = base
        self.allow_filter = allow_filter
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"git://127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> GitDaemon:
        for _ in range(DAEMON_PORT_ATTEMPTS):  # another process may take the probed port
            self.port = _free_port()
            self._process = subprocess.Popen(
                [  # noqa: S607 - git from PATH, as tagmgr runs it
                    "git",
                    "daemon",
                    "--listen=127.0.0.1",
                    f"--port={self.port}",
                    f"--base-path={self.base}",
                    "--export-all",
                    "--reuseaddr",
                    str(self.base),
                ],
                env={**os.environ, **ISOLATED_ENV, **self._config()},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_until_listening(self._process):
                return self
        raise RuntimeError(f"git daemon did not start in {DAEMON_PORT_ATTEMPTS} attempts")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)

    def _config(self) -> dict[str, str]:
        value = "true" if self.allow_filter else "false"
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "uploadpack.allowFilter",
            "GIT_CONFIG_VALUE_0": value,
        }

    def _wait_until_listening(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + DAEMON_START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.02)
            else:
                return True
        process.kill()
        process.wait(10)
        return False


def objects(git_dir: Path) -> dict[str, str]:
    """Every object a repository holds, hash to kind (commit, tag, tree, blob); never fetches."""
    listing = run_git(
        [
            f"--git-dir={git_dir}",
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname) %(objecttype)",
        ]
    )
    return dict(line.split() for line in listing.splitlines())
