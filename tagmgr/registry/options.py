"""What the command line says about reaching registries, and what was settled for one of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tagmgr.errors import RegistryError
from tagmgr.oci.reference import DOCKER_HUB, REGISTRY_PATTERN, split_registry
from tagmgr.registry.pace import DEFAULT_CONCURRENCY
from tagmgr.registry.policy import RetryPolicy

DOCKER_HUB_API_HOST = "registry-1.docker.io"


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or token); the password is never shown in a repr or message.

    ``source`` names where they were found (a file, a credential helper) for messages.
    """

    username: str
    password: str = field(repr=False)
    source: str = field(default="", compare=False)

    def described(self) -> str:
        """``user NAME from SOURCE``, for a message."""
        return (
            f"user {self.username} from {self.source}" if self.source else f"user {self.username}"
        )


CredentialLookup = Callable[[str], Credentials | None]
"""The credentials for a repository of one registry (``""``: the registry as a whole)."""


@dataclass(frozen=True)
class RegistryOptions:
    certs_dirs: tuple[Path, ...] = ()
    """``--certs-dir`` directories, searched before /etc/containers/certs.d, /etc/docker/certs.d."""
    insecure_registries: frozenset[str] = frozenset()
    """``--insecure-registry HOST[:PORT]``: plain HTTP or unverified TLS allowed."""
    authfile: Path | None = None
    """``--authfile``: the only auth file read when given (``authfiles``)."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Attempts, waits and time allowed per request and per registry (``policy``)."""
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
    credentials: CredentialLookup = field(repr=False, compare=False)
    """The credentials tagmgr uses for a repository of this registry, or None."""


def api_host(registry: str) -> str:
    """The host the distribution API is served from: ``docker.io`` is ``registry-1.docker.io``."""
    return DOCKER_HUB_API_HOST if registry == DOCKER_HUB else registry


_DEFAULT_PORTS = {"http": 80, "https": 443}


def base_url(registry: str, scheme: str) -> httpx.URL:
    """Where the distribution API of ``registry`` is, once its name is known to be exact."""
    if not re.fullmatch(REGISTRY_PATTERN, api_host(registry)):
        raise RegistryError(registry, "refusing to send a request: not a valid host[:port]")
    return check_destination(registry, httpx.URL(f"{scheme}://{api_host(registry)}"))


def check_destination(registry: str, url: httpx.URL) -> httpx.URL:
    """``url`` if it goes to exactly the host and port ``registry`` names, else RegistryError.

    A name that slipped past validation (port 70886, which a socket takes modulo 65536 as 5350)
    or a path that changes the host must never reach another server than the one named. Hosts
    are compared as sent, in ASCII: httpx's ``url.host`` decodes a punycode name
    (``xn--bcher-kva.example`` is ``bücher.example`` there).
    """
    named_host, named_port = split_registry(api_host(registry))
    default = _DEFAULT_PORTS.get(url.scheme)
    sent_host = url.raw_host.decode("ascii")
    if sent_host != named_host.lower() or (url.port or default) != (named_port or default):
        raise RegistryError(
            registry,
            f"refusing to send a request to {url.copy_with(query=None)}: not the host "
            "and port this registry names",
        )
    return url


def host_header(url: httpx.URL) -> dict[str, str]:
    """The ``Host`` header for ``url``, from its ASCII name.

    Left to httpx, it is filled in by decoding the host first, which raises for a punycode name
    that IDNA 2008 refuses, such as ``xn--n3h.com``, a host the reference grammar takes.
    """
    return {"Host": url.netloc.decode("ascii")}
