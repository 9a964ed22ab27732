"""What the command line says about reaching registries, and what was settled for one of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tagmgr.reference import DOCKER_HUB
from tagmgr.registry.pace import DEFAULT_CONCURRENCY

DOCKER_HUB_API_HOST = "registry-1.docker.io"


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or token) for one registry; never shown in a repr or message."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RegistryOptions:
    certs_dirs: tuple[Path, ...] = ()
    """``--certs-dir`` directories, searched before /etc/containers/certs.d, /etc/docker/certs.d."""
    insecure_registries: frozenset[str] = frozenset()
    """``--insecure-registry HOST[:PORT]``: plain HTTP or unverified TLS allowed."""
    authfile: Path | None = None
    """``--authfile``: the only auth file read when given."""
    timeout: float = 30.0
    concurrency: int = DEFAULT_CONCURRENCY
    """Requests in flight to one registry at most."""
    max_rps: float | None = None
    """``--max-rps``: requests started per second per registry at most."""


@dataclass(frozen=True)
class Connection:
    """How a registry was reached, for a copy engine (skopeo) that must reach it the same way."""

    registry: str
    tls_verify: bool
    """False only for plain-HTTP loopback or ``--insecure-registry``; skopeo needs it for HTTP."""
    cert_dir: Path | None
    credentials: Credentials | None


def api_host(registry: str) -> str:
    """The host the distribution API is served from: ``docker.io`` is ``registry-1.docker.io``."""
    return DOCKER_HUB_API_HOST if registry == DOCKER_HUB else registry
