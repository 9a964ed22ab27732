"""Which proxy, if any, carries requests to a registry: the environment, read as skopeo reads it.

``HTTPS_PROXY`` serves https registries and ``HTTP_PROXY`` plain-HTTP ones (the upper-case name
first, then the lower-case one); a value without a scheme is ``http://``. ``NO_PROXY`` lists
what goes direct, comma-separated: ``*`` for everything, a host or IP address (with ``:PORT``
for that port only), ``example.com`` for it and its subdomains, ``.example.com`` (or
``*.example.com``) for subdomains only, and IP ranges such as ``10.0.0.0/8``. These are the rules
of Go's net/http, which skopeo uses, so ``plan`` and ``apply`` go the same way.

Loopback registries (localhost, 127.0.0.0/8, [::1]) go direct, as Go and so skopeo always send
them, unless ``TAGMGR_PROXY_LOOPBACK`` is set to 1: then they follow the rules above like any
other host (for a proxy on the same machine; skopeo still reaches them directly).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from tagmgr.oci.reference import is_loopback
from tagmgr.registry.messages import Request, Response, Transport
from tagmgr.system import logs

log = logs.get(__name__)

LOOPBACK_VARIABLE = "TAGMGR_PROXY_LOOPBACK"
_SCHEMES = ("http", "https")


class ProxySettings(NamedTuple):
    """Proxy URLs by scheme of the registry, and the ``NO_PROXY`` entries, from an environment."""

    proxies: Mapping[str, str]
    no_proxy: tuple[str, ...] = ()
    loopback: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProxySettings:
        proxies = {}
        for scheme in _SCHEMES:
            value = _first(env, f"{scheme.upper()}_PROXY", f"{scheme}_proxy")
            if value:
                proxies[scheme] = value if "://" in value else f"http://{value}"
        entries = (_first(env, "NO_PROXY", "no_proxy") or "").lower().split(",")
        no_proxy = tuple(entry.strip() for entry in entries if entry.strip())
        return cls(proxies, no_proxy, loopback=env.get(LOOPBACK_VARIABLE, "") == "1")

    def proxy_for(self, scheme: str, host: str) -> str | None:
        """The proxy URL for ``scheme://host`` (``host`` as in a URL: ``[::1]:5000``), or None."""
        proxy = self.proxies.get(scheme)
        if proxy is None or (is_loopback(host) and not self.loopback):
            return None
        name, port = _split(host.lower())
        if any(_matches(entry, name, port) for entry in self.no_proxy):
            return None
        return proxy


class ProxiedTransport:
    """Each request direct or through its proxy, by its own URL: a token realm is another host.

    ``make(proxy)`` builds the transport for one proxy URL (None: direct); each is built once.
    """

    def __init__(self, settings: ProxySettings, make: Callable[[str | None], Transport]) -> None:
        self._settings = settings
        self._make = make
        self._transports: dict[str | None, Transport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: Request) -> Response:
        url = request.url
        proxy = self._settings.proxy_for(url.scheme, url.netloc)
        with self._lock:
            transport = self._transports.get(proxy)
            if transport is None:
                if proxy is not None:
                    log.debug(
                        "%s://%s through proxy %s",
                        url.scheme,
                        url.netloc,
                        redact_proxy(proxy),
                    )
                transport = self._transports[proxy] = self._make(proxy)
        return transport.handle_request(request)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()


def redact_proxy(url: str) -> str:
    """``url`` without its user name and password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def _first(env: Mapping[str, str], *names: str) -> str | None:
    return next((env[name] for name in names if env.get(name)), None)


def _split(host: str) -> tuple[str, str | None]:
    """``[::1]:5000`` -> ``("::1", "5000")``; ``example.com`` -> ``("example.com", None)``."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.removeprefix(":") or None
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    return host, None


def _matches(entry: str, name: str, port: str | None) -> bool:
    if entry == "*":
        return True
    if "/" in entry:
        return _in_network(entry, name)
    pattern, pattern_port = _split(entry)
    if pattern_port is not None and pattern_port != port:
        return False
    if pattern.startswith("*."):
        pattern = pattern[1:]
    if pattern.startswith("."):
        return name.endswith(pattern)
    return name == pattern or name.endswith(f".{pattern}")


def _in_network(entry: str, name: str) -> bool:
    try:
        return ipaddress.ip_address(name) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
