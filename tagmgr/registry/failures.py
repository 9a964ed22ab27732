"""The one boundary where failures to get an answer, and error answers, become tagmgr errors.

Messages name the registry and the URL, never a header, a token or a password.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator

from tagmgr.errors import CertificateError, RegistryError
from tagmgr.registry.messages import (
    URL,
    ConnectError,
    RequestError,
    Response,
    TimeoutException,
    TransportError,
)
from tagmgr.registry.tls import SYSTEM_CERTS_DIRS

MAX_DETAIL = 300


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def untrusted_certificate(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    return next((e for e in causes(exc) if isinstance(e, ssl.SSLCertVerificationError)), None)


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS handshake failure behind ``exc`` (an untrusted certificate, or a server that does
    not speak TLS at all); such a failure is the same on every attempt."""
    return next((e for e in causes(exc) if isinstance(e, ssl.SSLError)), None)


def connection_refused(exc: BaseException) -> bool:
    """True when nothing listens where ``exc`` tried to connect."""
    return any(isinstance(e, ConnectionRefusedError) for e in causes(exc))


def how_to_trust(registry: str) -> str:
    return (
        f"put the CA certificate that signed it in {SYSTEM_CERTS_DIRS[0]}/{registry}/ca.crt, "
        f"or in DIR/{registry}/ca.crt and pass --certs-dir DIR"
    )


def request_error(registry: str, url: URL, exc: RequestError, timeout: float) -> RegistryError:
    """Translate a failure to get an answer from ``url``."""
    shown = _without_query(url)
    untrusted = untrusted_certificate(exc)
    if untrusted is not None:
        reason = untrusted.verify_message or "certificate verify failed"
        return CertificateError(
            registry,
            f"TLS certificate of {shown} is not trusted ({reason}); {how_to_trust(registry)}",
        )
    handshake = tls_failure(exc)
    if handshake is not None:
        return RegistryError(
            registry,
            f"TLS handshake with {shown} failed ({handshake.reason or handshake}); "
            f"if it serves plain HTTP, pass --insecure-registry {registry}",
        )
    if isinstance(exc, TimeoutException):
        return RegistryError(
            registry, f"no answer from {shown} within {timeout:g} s (--request-timeout)"
        )
    if isinstance(exc, ConnectError):
        return RegistryError(registry, f"cannot connect to {shown}: {_os_reason(exc)}")
    if isinstance(exc, TransportError):
        return RegistryError(registry, f"connection to {shown} failed: {_os_reason(exc)}")
    return RegistryError(registry, f"request to {shown} failed: {exc}")


def status_error(registry: str, response: Response) -> RegistryError:
    """Translate an unexpected status, with the distribution error codes from the body."""
    request = response.request
    status = f"{response.status_code} {response.reason_phrase}".strip()
    message = f"{request.method} {request.url.path}: {status}"
    detail = distribution_errors(response)
    if detail:
        message += f": {detail}"
    return RegistryError(registry, message)


def distribution_errors(response: Response) -> str:
    """``CODE: message; ...`` from a body in the distribution error format, else ``""``."""
    try:
        errors = json.loads(response.content).get("errors") or []
        text = "; ".join(f"{e.get('code', '?')}: {e.get('message', '')}".strip() for e in errors)
    except (ValueError, RecursionError, AttributeError, TypeError):
        return ""
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _os_reason(exc: BaseException) -> str:
    for cause in causes(exc):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
    return str(exc) or type(exc).__name__


def _without_query(url: URL) -> str:
    return str(url.without_query())
