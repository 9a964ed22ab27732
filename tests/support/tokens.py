"""A small Bearer token server for a registry started with ``auth: token``, on 127.0.0.1.

It signs JWTs (ES256) with a throw-away key whose certificate chains to a test CA; the registry
trusts that CA (``rootcertbundle``) and finds the signing certificate in each token's ``x5c``.
Users authenticate with basic credentials; ``grants`` says which actions each user may have on
which repository prefix, and a token carries only the requested actions granted. Every scope
asked for is recorded, so tests can check what the client asked for.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.serve import serving

SERVICE = "tagmgr-test-registry"
ISSUER = "tagmgr-test-tokens"
LIFETIME = 300


@dataclass
class TokenServer:
    """The running server: its realm, and what it was asked."""

    realm: str
    ca_path: Path
    passwords: Mapping[str, str]
    grants: Mapping[str, Mapping[str, frozenset[str]]]
    requested: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def registry_auth(self) -> dict[str, object]:
        """The ``auth:`` section of the registry's configuration."""
        return {
            "token": {
                "realm": self.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(self.ca_path),
            }
        }

    def granted(self, user: str, scope: str) -> dict[str, object] | None:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        allowed: frozenset[str] = frozenset()
        for prefix, actions_allowed in self.grants.get(user, {}).items():
            if name.startswith(prefix):
                allowed = allowed | actions_allowed
        given = sorted(set(actions.split(",")) & allowed)
        return {"type": kind, "name": name, "actions": given} if kind and given else None


@contextmanager
def running_token_server(
    directory: Path,
    passwords: Mapping[str, str],
    grants: Mapping[str, Mapping[str, frozenset[str]]],
) -> Iterator[TokenServer]:
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca_path = directory / "token-ca.crt"
    ca.cert_pem.write_to_path(str(ca_path))
    signer = ca.issue_cert("tagmgr-test-tokens")
    key = serialization.load_pem_private_key(signer.private_key_pem.bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("trustme issued a non-EC key; the token server signs ES256")
    leaf = signer.cert_chain_pems[0].bytes()
    der = _pem_to_der(leaf)
    with serving(_Handler) as server:
        realm = f"http://127.0.0.1:{server.server_port}/token"
        state = TokenServer(realm, ca_path, passwords, grants)
        server.state = state  # type: ignore[attr-defined]
        server.sign = lambda claims: _jwt(claims, key, der)  # type: ignore[attr-defined]
        yield state


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        state: TokenServer = self.server.state  # type: ignore[attr-defined]
        query = parse_qs(urlsplit(self.path).query)
        user = self._user(state)
        if user is None:
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED"}]})
            return
        scopes = tuple(query.get("scope", []))
        state.requested.append((user, scopes))
        access = [g for s in scopes for one in s.split(" ") if (g := state.granted(user, one))]
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": query.get("service", [""])[0],
            "exp": now + LIFETIME,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        token = self.server.sign(claims)  # type: ignore[attr-defined]
        self._answer(200, {"token": token, "expires_in": LIFETIME})

    def _user(self, state: TokenServer) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if state.passwords.get(user) == password else None

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt(claims: dict[str, object], key: ec.EllipticCurvePrivateKey, der: bytes) -> str:
    header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode("ascii")]}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _pem_to_der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
