"""A real Docker daemon (Debian's ``docker.io``, dockerd 20.10) for the session, as root.

``DockerDaemon`` is a context manager: entering starts ``dockerd`` with its own data root, exec
root, pid file, config file and unix socket in a fresh directory, no TCP listener, no bridge, no
iptables or forwarding changes, and waits until the API answers; leaving stops it and the
containerd it started, whatever happened in between, and removes the directory.

Loopback registries (127.0.0.0/8) are insecure registries by default in Docker, so the daemon
pulls from and pushes to the session's plain-HTTP ``registry`` without any configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import requests

from tagmgr.system.process import die_with
from tests.support.service import Service

DOCKERD_BINARY = "dockerd"
API_VERSION = "1.41"  # dockerd 20.10's; asking for it saves a version request per client
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
_POLL_INTERVAL = 0.05
# The daemon honours these; none from the caller may leak in (a proxy must never see loopback).
_LEAKY_ENVIRONMENT = ("DOCKER_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")


class DockerdStartError(RuntimeError):
    """The daemon did not come up; the message carries its log."""


class DockerDaemon(Service):
    """One ``dockerd`` process; ``url`` is valid while it runs, ``start_seconds`` once it has."""

    def __init__(self, start_timeout: float = START_TIMEOUT) -> None:
        self.start_timeout = start_timeout
        self.start_seconds: float | None = None
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the Docker daemon has not been started")
        return self._workdir

    @property
    def url(self) -> str:
        """``unix://...``, for ``DOCKER_HOST`` or ``docker.DockerClient(base_url=...)``."""
        return f"unix://{self.workdir / 'docker.sock'}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "dockerd.log"

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, version=API_VERSION, timeout=60)

    def stop(self) -> None:
        """Stop dockerd, then any containerd it left, then remove the directory; idempotent."""
        process, self._process = self._process, None
        workdir, self._workdir = self._workdir, None
        if workdir is None:
            return
        containerd = _pid_in(workdir / "exec" / "containerd" / "containerd.pid")
        if process is not None:
            _terminate(process.pid, lambda: process.poll() is not None)
        # dockerd stops its containerd as it exits; one it left is still ours only if its
        # command line names our directory (a stale pid may belong to anyone by now).
        if containerd is not None and _runs_in(containerd, workdir):
            _terminate(containerd, lambda: not _runs_in(containerd, workdir))
        shutil.rmtree(workdir, ignore_errors=True)

    def read_log(self) -> str:
        path = self.log_path
        return path.read_text(errors="replace") if path.exists() else ""

    def _start(self) -> None:
        # A short directory of our own: unix socket paths must stay under 108 bytes.
        self._workdir = Path(tempfile.mkdtemp(prefix="tagmgr-dockerd-"))
        config = self.workdir / "daemon.json"
        # Keeps dockerd from writing its identity key to /etc/docker/key.json.
        config.write_text(json.dumps({"deprecated-key-path": str(self.workdir / "key.json")}))
        argv = [
            DOCKERD_BINARY,
            f"--config-file={config}",
            "--storage-driver=vfs",
            "--iptables=false",
            "--ip-forward=false",
            "--bridge=none",
            f"--data-root={self.workdir / 'data'}",
            f"--exec-root={self.workdir / 'exec'}",
            f"--pidfile={self.workdir / 'dockerd.pid'}",
            f"--host={self.url}",
        ]
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_LEAKY_ENVIRONMENT)}
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                # A killed test run stops it too; SIGTERM, so it stops its containerd as well.
                preexec_fn=die_with(os.getpid(), signal.SIGTERM),  # noqa: PLW1509
            )
        self._wait_until_ready(self._process)
        self.start_seconds = time.monotonic() - started

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DockerdStartError(
                    f"dockerd exited with {process.returncode}:\n{self.read_log()}"
                )
            client = self.client()
            try:
                if client.ping():
                    return
            except (docker.errors.DockerException, requests.RequestException):
                pass
            finally:
                client.close()
            time.sleep(_POLL_INTERVAL)
        raise DockerdStartError(
            f"dockerd not answering after {self.start_timeout:g} s:\n{self.read_log()}"
        )


def _terminate(pid: int, gone: Callable[[], bool]) -> None:
    """SIGTERM, wait up to ``STOP_TIMEOUT``, then SIGKILL and wait again."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT
        while not gone() and time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)
        if gone():
            return


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _runs_in(pid: int, workdir: Path) -> bool:
    """True while ``pid`` is a live process (not a zombie) whose command line names ``workdir``."""
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command_line = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state != "Z" and os.fsencode(workdir) in command_line
