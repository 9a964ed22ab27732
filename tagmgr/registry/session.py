"""Settle how to reach one registry: scheme, TLS, auth; then one ``Sender`` for it.

Pinging ``/v2/`` settles the scheme: HTTPS first; plain HTTP only for loopback registries and
``--insecure-registry`` ones, and only when HTTPS got no answer at all. An untrusted certificate
stops the search with a ``CertificateError``: it is never a reason to downgrade. A refused
connection moves on to the next endpoint at once; only the last one is retried on it.
Requests go through the proxy the environment names for the registry (``proxy``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from tagmgr import __version__
from tagmgr.errors import CertificateError, RegistryError
from tagmgr.registry.auth import RegistryAuth
from tagmgr.registry.connections import PooledTransport
from tagmgr.registry.credentials import Keyring
from tagmgr.registry.failures import request_error
from tagmgr.registry.httpsproxy import HttpsProxyTransport
from tagmgr.registry.limits import BoundedTransport
from tagmgr.registry.messages import URL, RequestError, Response, Transport
from tagmgr.registry.options import (
    Connection,
    RegistryOptions,
    base_url,
    check_destination,
)
from tagmgr.registry.pace import Pace, PacedTransport
from tagmgr.registry.proxy import ProxiedTransport, ProxySettings
from tagmgr.registry.reachability import Reachability
from tagmgr.registry.retry import PROBE, RetryTransport
from tagmgr.registry.sender import Sender
from tagmgr.registry.tls import Endpoint, Trust, clear_text_allowed, endpoints, host_cert_dir
from tagmgr.system import logs

log = logs.get(__name__)

USER_AGENT = f"tagmgr/{__version__}"


class Session(NamedTuple):
    http: Sender
    base_url: URL
    connection: Connection


def open_session(
    registry: str,
    options: RegistryOptions,
    *,
    keyring: Keyring,
    transport: Transport | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    reachability: Reachability,
) -> Session:
    """Ping each allowed endpoint in turn; the first that answers wins. Credentials are asked
    of ``keyring`` per repository, when a request needs them."""
    credentials = keyring.lookup(registry)
    auth = RegistryAuth(
        registry,
        credentials,
        keyring.searched,
        clear_text_allowed=clear_text_allowed(registry, options),
    )
    cert_dir = host_cert_dir(registry, options)
    failures: list[tuple[RegistryError, RequestError]] = []
    candidates = endpoints(registry, options)
    pace = Pace(options.concurrency, options.max_rps, sleep=sleep)
    # The environment's proxies, read as skopeo reads them.
    proxies = ProxySettings.from_env(os.environ)
    for endpoint in candidates:
        url = base_url(registry, endpoint.scheme)
        ping = check_destination(registry, url.join("/v2/"))
        inner = transport or _transport(registry, endpoint, cert_dir, proxies)
        http = Sender(
            RetryTransport(
                PacedTransport(BoundedTransport(inner, registry), pace),
                options.retry,
                sleep,
                reachability=reachability,
                clock=clock,
            ),
            auth,
            {"User-Agent": USER_AGENT},
        )
        try:
            answer = http.send(
                "GET",
                ping,
                {},
                extensions={PROBE: endpoint is not candidates[-1]},
                authenticate=False,
            )
            _check_is_registry(registry, answer)
        except RequestError as failure:
            if transport is None:
                http.close()
            error = request_error(registry, ping, failure, options.retry.request_timeout)
            if isinstance(error, CertificateError):
                raise error from failure
            failures.append((error, failure))
            continue
        except BaseException:
            if transport is None:
                http.close()
            raise
        connection = Connection(registry, endpoint.tls_verify, cert_dir, credentials)
        log.debug("registry %s: using %s (tls_verify=%s)", registry, url, endpoint.tls_verify)
        return Session(http, url, connection)
    first_error, first_failure = failures[0]  # the HTTPS failure says most
    raise first_error from first_failure


def _check_is_registry(registry: str, answer: Response) -> None:
    """A registry answers ``GET /v2/`` with 200 or 401; 404 says the server implements no
    distribution API (the spec's words), and an HTML page is a web site's answer."""
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if answer.status_code != 404 and not (answer.is_success and content_type == "text/html"):
        return
    what = f"{answer.status_code} {answer.reason_phrase}".strip()
    if answer.is_success:
        what += ", a web page"
    raise RegistryError(
        registry,
        f"not a registry: {answer.request.url} answered {what}, where a registry answers 200 "
        "or 401; is it the right host and port?",
    )


def _transport(
    registry: str, endpoint: Endpoint, cert_dir: Path | None, proxies: ProxySettings
) -> Transport:
    """Connections to the registry (and its token realm, which may be https even when the
    registry is not: verified then), through the proxy the environment names for each."""
    trust = Trust(registry, cert_dir, verify=endpoint.verify or endpoint.scheme == "http")

    def connections(proxy: str | None) -> Transport:
        if proxy is None or proxy.startswith("http://"):
            return PooledTransport(trust, proxy)
        return HttpsProxyTransport(trust.context(), proxy)

    return ProxiedTransport(proxies, connections)
