"""Throw-away trust material for test registries: a private CA, a server certificate, htpasswd."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import trustme

# The registry checks the password on every request; bcrypt's default cost makes that ~0.3 s each.
BCRYPT_COST = 4


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the private CA to trust, and the server's certificate chain and key."""

    ca_path: Path
    cert_path: Path
    key_path: Path


def issue_tls(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> TlsFiles:
    """Create a new private CA in ``directory`` and a server certificate for ``hosts``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert(*hosts)
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    ca.cert_pem.write_to_path(str(files.ca_path))
    server.private_key_pem.write_to_path(str(files.key_path))
    files.cert_path.write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems))
    return files


def ssl_context(ca_path: Path) -> ssl.SSLContext:
    """A client context that trusts ``ca_path`` and nothing else."""
    return ssl.create_default_context(cafile=str(ca_path))


def write_htpasswd(path: Path, users: Mapping[str, str]) -> Path:
    """Write bcrypt ``user:hash`` lines; distribution 2.8 accepts bcrypt's ``$2b$`` prefix as is."""
    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()}\n"
        for user, password in users.items()
    ]
    path.write_text("".join(lines))
    return path


def write_certs_d(directory: Path, address: str, ca_path: Path) -> Path:
    """Lay out ``directory/ADDRESS/ca.crt`` like ``/etc/containers/certs.d``; return directory.

    ``directory / address`` is what ``skopeo --cert-dir`` (and ``--src/dest-cert-dir``) want.
    """
    host_dir = directory / address
    host_dir.mkdir(parents=True, exist_ok=True)
    (host_dir / "ca.crt").write_bytes(ca_path.read_bytes())
    return directory
