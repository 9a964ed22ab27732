"""TLS for one registry: its certs.d directory, its SSL context, and which schemes may be tried.

A certs.d directory (containers-certs.d(5)) is ``<dir>/<host[:port]>/`` holding CA certificates
``*.crt`` and client pairs ``NAME.cert`` + ``NAME.key``. The first existing one is used, searching
the ``--certs-dir`` directories, then /etc/containers/certs.d, then /etc/docker/certs.d.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from tagmgr.errors import CertificateError
from tagmgr.oci.reference import is_loopback
from tagmgr.registry.options import RegistryOptions

SYSTEM_CERTS_DIRS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


class Endpoint(NamedTuple):
    """One way to try a registry: a scheme, and for HTTPS whether the certificate is verified."""

    scheme: str
    verify: bool

    @property
    def tls_verify(self) -> bool:
        return self.scheme == "https" and self.verify


def endpoints(registry: str, options: RegistryOptions) -> list[Endpoint]:
    """The ways to try, in order. Verified HTTPS is never followed by a downgrade on a bad cert:
    only a server that does not speak TLS at all may be tried again over plain HTTP."""
    if registry in options.insecure_registries:
        return [Endpoint("https", verify=False), Endpoint("http", verify=False)]
    if is_loopback(registry):
        return [Endpoint("https", verify=True), Endpoint("http", verify=False)]
    return [Endpoint("https", verify=True)]


def clear_text_allowed(registry: str, options: RegistryOptions) -> bool:
    """Whether plain HTTP may be spoken with ``registry`` (or the token realm it names)."""
    return registry in options.insecure_registries or is_loopback(registry)


def host_cert_dir(registry: str, options: RegistryOptions) -> Path | None:
    """The certs.d-style directory for ``registry``, if one exists."""
    for base in (*options.certs_dirs, *SYSTEM_CERTS_DIRS):
        candidate = base / registry
        if candidate.is_dir():
            return candidate
    return None


def ssl_context(
    registry: str, cert_dir: Path | None, *, verify: bool, system_store: bool = True
) -> ssl.SSLContext:
    """The system trust store (unless ``system_store`` is False, or nothing is verified) plus
    ``cert_dir``'s CAs and client certificate pairs."""
    if verify and system_store:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert_dir is None:
        return context
    for ca_file in sorted(cert_dir.glob("*.crt")):
        try:
            context.load_verify_locations(cafile=ca_file)
        except (ssl.SSLError, OSError) as exc:
            raise CertificateError(registry, f"{ca_file}: not a usable CA certificate") from exc
    for cert_file, key_file in _client_pairs(registry, cert_dir):
        try:
            context.load_cert_chain(cert_file, key_file)
        except (ssl.SSLError, OSError) as exc:
            raise CertificateError(
                registry, f"{cert_file} and {key_file}: not a usable client certificate"
            ) from exc
    return context


class Trust:
    """The TLS context of one registry's connections (token realms included), made on first use.

    Loading the system's CA store is a large part of a short run's CPU, paid by every process
    that tries HTTPS. A loopback registry is first tried with its certs.d CAs alone: one that
    serves plain HTTP, the usual case, fails the handshake before sending a certificate, so the
    store is never loaded; a certificate those CAs do not verify makes the connection try again
    with the whole store (``widen``), once per run, at the cost of one more handshake. Fewer CAs
    can only refuse more, never accept what the whole store would refuse.
    """

    def __init__(self, registry: str, cert_dir: Path | None, *, verify: bool) -> None:
        self._registry = registry
        self._cert_dir = cert_dir
        self._verify = verify
        self._narrow = verify and is_loopback(registry)
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                self._context = ssl_context(
                    self._registry,
                    self._cert_dir,
                    verify=self._verify,
                    system_store=not self._narrow,
                )
            return self._context

    def widen(self, failed: ssl.SSLContext) -> bool:
        """After ``failed`` did not verify a certificate: True if the context now holds the
        system's CAs too (or another connection widened it meanwhile), so that the handshake is
        worth trying again."""
        with self._lock:
            if self._context is not failed:
                return True
            if not self._narrow:
                return False
            self._narrow, self._context = False, None
            return True


def _client_pairs(registry: str, cert_dir: Path) -> Iterator[tuple[Path, Path]]:
    for cert_file in sorted(cert_dir.glob("*.cert")):
        key_file = cert_file.with_suffix(".key")
        if not key_file.is_file():
            raise CertificateError(registry, f"{cert_file} has no matching key {key_file.name}")
        yield cert_file, key_file
