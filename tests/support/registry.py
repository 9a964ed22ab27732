"""A real registry (Debian's ``docker-registry``, CNCF distribution 2.8) on 127.0.0.1.

``RegistryServer`` is a context manager: entering starts the server on a free port with its own
storage and waits until ``/v2/`` answers; leaving stops it, whatever happened in between.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tagmgr.system.process import die_with
from tests.support.push import open_client
from tests.support.service import Service
from tests.support.trust import TlsFiles, issue_tls, write_certs_d, write_htpasswd

REGISTRY_BINARY = "docker-registry"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
_POLL_INTERVAL = 0.02
# Another process may take the port between our probe and the registry's bind.
_PORT_ATTEMPTS = 3
_PORT_TAKEN = "address already in use"
_NOT_IN_PATH_COMPONENT = re.compile(r"[^a-z0-9]+")


class RegistryStartError(RuntimeError):
    """The registry did not come up; the message carries its log."""


class RegistryServer(Service):
    """One ``docker-registry serve`` process; ``address``/``url`` are valid while it runs."""

    def __init__(
        self,
        workdir: Path,
        *,
        tls: TlsFiles | None = None,
        htpasswd: Path | None = None,
        auth: dict[str, object] | None = None,
        access_log: bool = False,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.workdir = workdir
        self.tls = tls
        self.htpasswd = htpasswd
        self.auth = auth  # an ``auth:`` section of the registry's configuration, as is
        self.access_log = access_log  # one line per request in the log (``make bench`` counts them)
        self.start_timeout = start_timeout
        self.log_path = workdir / "registry.log"
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        if self._port is None:
            raise RuntimeError("the registry has not been started")
        return f"127.0.0.1:{self._port}"

    @property
    def pid(self) -> int:
        """The server's process id (``make bench`` reads its CPU time in /proc)."""
        if self._process is None:
            raise RuntimeError("the registry is not running")
        return self._process.pid

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def ca_path(self) -> Path | None:
        return self.tls.ca_path if self.tls else None

    def stop(self) -> None:
        """Terminate, wait, kill if it will not go; safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed or closed; the storage stays."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def restart(self) -> None:
        """Start again on the same port with the same storage (after ``kill`` or ``stop``)."""
        self.stop()
        self._process = self._spawn(self._write_config())
        if not self._wait_until_ready(self._process):
            raise RegistryStartError(f"docker-registry did not restart:\n{self.read_log()}")

    def garbage_collect(self) -> None:
        """Run ``docker-registry garbage-collect`` over this server's storage, while it is stopped:
        collection needs a registry that nobody writes to meanwhile."""
        if self._process is not None:
            raise RuntimeError("stop the registry before collecting garbage")
        result = subprocess.run(
            [REGISTRY_BINARY, "garbage-collect", str(self.workdir / "config.json")],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RegistryStartError(f"garbage-collect failed:\n{result.stdout.decode()}")

    def read_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(_PORT_ATTEMPTS):
            self._port = _free_port()
            self._process = self._spawn(self._write_config())
            if self._wait_until_ready(self._process):
                return
            self.stop()
            if _PORT_TAKEN not in self.read_log():
                raise RegistryStartError(f"docker-registry exited at start:\n{self.read_log()}")
        raise RegistryStartError(f"no free port in {_PORT_ATTEMPTS} attempts:\n{self.read_log()}")

    def _write_config(self) -> Path:
        http: dict[str, object] = {"addr": self.address, "secret": secrets.token_hex(16)}
        if self.tls:
            http["tls"] = {"certificate": str(self.tls.cert_path), "key": str(self.tls.key_path)}
        config: dict[str, object] = {
            "version": "0.1",
            "log": {"level": "error", "accesslog": {"disabled": not self.access_log}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.workdir / "storage")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
        }
        if self.htpasswd:
            config["auth"] = {"htpasswd": {"realm": "tagmgr-test", "path": str(self.htpasswd)}}
        if self.auth:
            config["auth"] = self.auth
        path = self.workdir / "config.json"  # JSON is YAML, which is what the registry reads
        path.write_text(json.dumps(config, indent=2))
        return path

    def _spawn(self, config: Path) -> subprocess.Popen[bytes]:
        # REGISTRY_* variables override the config file; none from the caller may leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        with self.log_path.open("wb") as log:
            return subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=die_with(os.getpid()),  # noqa: PLW1509 - a killed test run stops it too
            )

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> bool:
        """True once ``/v2/`` answers at all (401 included); False if the process exited."""
        deadline = time.monotonic() + self.start_timeout
        with open_client(self.address, ca_path=self.ca_path) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    return False
                try:
                    client.get("/v2/", timeout=1.0)
                except httpx.TransportError:
                    time.sleep(_POLL_INTERVAL)
                else:
                    return True
        raise RegistryStartError(
            f"{self.url}/v2/ not answering after {self.start_timeout:g} s:\n{self.read_log()}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class SecureRegistry:
    """A running TLS + basic-auth registry and what a client needs to reach it."""

    server: RegistryServer
    tls: TlsFiles
    certs_d: Path
    username: str
    password: str

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def cert_dir(self) -> Path:
        """``certs_d / address``: the directory for ``skopeo --cert-dir``."""
        return self.certs_d / self.address

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)


@contextmanager
def running_secure_registry(
    workdir: Path, username: str = "tagmgr-test"
) -> Iterator[SecureRegistry]:
    """Start a registry behind a fresh private CA and htpasswd with one user, random password."""
    password = secrets.token_urlsafe(16)
    tls = issue_tls(workdir / "tls")
    htpasswd = write_htpasswd(workdir / "htpasswd", {username: password})
    with RegistryServer(workdir / "server", tls=tls, htpasswd=htpasswd) as server:
        certs_d = write_certs_d(workdir / "certs.d", server.address, tls.ca_path)
        yield SecureRegistry(server, tls, certs_d, username, password)


def repository_for(test_id: str) -> str:
    """A valid repository name unique to a pytest node id.

    ``tests/test_sync.py::test_copy[oci-1]`` -> ``test-sync/test-copy-oci-1-<8 hex of the id>``.
    """
    path, _, name = test_id.partition("::")
    suffix = hashlib.sha256(test_id.encode()).hexdigest()[:8]
    leaf = "-".join(filter(None, [_slug(name, 60), suffix]))
    return "/".join(filter(None, [_slug(Path(path).stem, 40), leaf]))


def _slug(text: str, limit: int) -> str:
    return _NOT_IN_PATH_COMPONENT.sub("-", text.lower())[:limit].strip("-")
