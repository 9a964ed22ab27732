"""What the command line says about reaching registries, and what was settled for one of them."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NamedTuple

from tagmgr.errors import RegistryError
from tagmgr.oci.reference import DOCKER_HUB, is_valid_registry, split_registry
from tagmgr.registry.messages import DEFAULT_PORTS, URL
from tagmgr.registry.pace import DEFAULT_CONCURRENCY
from tagmgr.registry.policy import RetryPolicy

DOCKER_HUB_API_HOST = "registry-1.docker.io"


class Credentials(NamedTuple):
    """A user name and password (or token); the password is never shown in a repr or message.

    ``source`` names where they were found (a file, a credential helper) for messages.
    """

    username: str
    password: str
    source: str = ""
    """Not compared: the same user and password found in two places are the same credentials."""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, source={self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and self[:2] == other[:2]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:2])

    def described(self) -> str:
        """``user NAME from SOURCE``, for a message."""
        return (
            f"user {self.username} from {self.source}" if self.source else f"user {self.username}"
        )


CredentialLookup = Callable[[str], Credentials | None]
"""The credentials for a repository of one registry (``""``: the registry as a whole)."""


class RegistryOptions(NamedTuple):
    certs_dirs: tuple[Path, ...] = ()
    """``--certs-dir`` directories, searched before /etc/containers/certs.d, /etc/docker/certs.d."""
    insecure_registries: frozenset[str] = frozenset()
    """``--insecure-registry HOST[:PORT]``: plain HTTP or unverified TLS allowed."""
    authfile: Path | None = None
    """``--authfile``: the only auth file read when given (``authfiles``)."""
    retry: RetryPolicy = RetryPolicy()
    """Attempts, waits and time allowed per request and per registry (``policy``)."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Requests in flight to one registry at most."""
    max_rps: float | None = None
    """``--max-rps``: requests started per second per registry at most."""


class Connection(NamedTuple):
    """How a registry was reached, for a copy engine (skopeo) that must reach it the same way."""

    registry: str
    tls_verify: bool
    """False only for plain-HTTP loopback or ``--insecure-registry``; skopeo needs it for HTTP."""
    cert_dir: Path | None
    credentials: CredentialLookup
    """The credentials tagmgr uses for a repository of this registry, or None. Neither shown
    nor compared."""

    def __repr__(self) -> str:
        return (
            f"Connection(registry={self.registry!r}, tls_verify={self.tls_verify!r}, "
            f"cert_dir={self.cert_dir!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and self[:3] == other[:3]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:3])


def api_host(registry: str) -> str:
    """The host the distribution API is served from: ``docker.io`` is ``registry-1.docker.io``."""
    return DOCKER_HUB_API_HOST if registry == DOCKER_HUB else registry


def base_url(registry: str, scheme: str) -> URL:
    """Where the distribution API of ``registry`` is, once its name is known to be exact."""
    if not is_valid_registry(api_host(registry)):
        raise RegistryError(registry, "refusing to send a request: not a valid host[:port]")
    return check_destination(registry, URL.parse(f"{scheme}://{api_host(registry)}"))


def goes_to(registry: str, url: URL) -> bool:
    """Whether ``url`` is on exactly the host and port ``registry``'s API is served from."""
    named_host, named_port = _api_origin(registry)
    default = DEFAULT_PORTS.get(url.scheme)
    return url.host == named_host and url.effective_port == (named_port or default)


@cache
def _api_origin(registry: str) -> tuple[str, int | None]:
    """Split once per registry: every request's URL is checked, and its auth flow checks it too."""
    host, port = split_registry(api_host(registry))
    return host.lower(), port


def check_destination(registry: str, url: URL) -> URL:
    """``url`` if it goes to exactly the host and port ``registry`` names, else RegistryError.

    A name that slipped past validation (port 70886, which a socket takes modulo 65536 as 5350)
    or a path that changes the host must never reach another server than the one named. Hosts
    are compared as sent, in ASCII (a punycode name such as ``xn--bcher-kva.example`` is never
    decoded).
    """
    if not goes_to(registry, url):
        raise RegistryError(
            registry,
            f"refusing to send a request to {url.without_query()}: not the host "
            "and port this registry names",
        )
    return url
