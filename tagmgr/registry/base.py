"""What every registry request goes through: one settled session, one boundary for failures.

``ClientBase`` settles the session on first use (scheme, TLS, credentials, see ``session``), builds
URLs that are checked to go to this registry, and sends every request through ``_send``, where
each failure to get an answer becomes a ``RegistryError``. The distribution API lives in its
subclasses.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tagmgr.errors import RegistryError, TagmgrError, TransientWriteError
from tagmgr.oci.reference import DIGEST_PATTERN
from tagmgr.registry.credentials import Keyring
from tagmgr.registry.failures import request_error, status_error
from tagmgr.registry.limits import UNBOUNDED
from tagmgr.registry.messages import URL, RequestError, Response, Transport
from tagmgr.registry.options import Connection, RegistryOptions, check_destination
from tagmgr.registry.reachability import Reachability
from tagmgr.registry.retry import NOT_SENT_AGAIN, OVERTAKEN, RETRY_SAFE
from tagmgr.registry.session import Session, open_session

if TYPE_CHECKING:
    from hashlib import _Hash

DIGEST_RE = re.compile(DIGEST_PATTERN)
LENGTH_RE = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which int() refuses
RetrySafe = bool | Callable[[], bool]  # see tagmgr.registry.retry.RETRY_SAFE


class ClientBase:
    """One registry host; thread-safe. The first call pings it to settle scheme, TLS and auth.

    One settlement at a time: other threads wait for it and share its session, or its failure,
    which is raised again by every later call, so an unreachable registry is tried only once.
    """

    def __init__(
        self,
        registry: str,
        options: RegistryOptions,
        *,
        keyring: Keyring | None = None,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self._options = options
        self._keyring = keyring or Keyring.load(options)
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._reachability = self._new_reachability()
        self._session: Session | None = None
        self._failure: TagmgrError | None = None
        self._lock = threading.Lock()
        self._pages: dict[str, int] = {}  # see RegistryClient.listing_pages

    def connection(self) -> Connection:
        return self._settled().connection

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.http.close()
            self._session, self._failure = None, None
            self._reachability = self._new_reachability()

    def _new_reachability(self) -> Reachability:
        policy = self._options.retry
        return Reachability(
            self.registry,
            down_after=policy.down_after,
            registry_timeout=policy.registry_timeout,
            request_timeout=policy.request_timeout,
            clock=self._clock,
        )

    def _settled(self) -> Session:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._session is None:
                try:
                    self._session = open_session(
                        self.registry,
                        self._options,
                        keyring=self._keyring,
                        transport=self._transport,
                        sleep=self._sleep,
                        clock=self._clock,
                        reachability=self._reachability,
                    )
                except TagmgrError as failure:
                    self._failure = failure
                    raise
            return self._session

    def _url(self, path: str) -> URL:
        """``path`` (absolute, from ``/v2/``) on this registry."""
        return check_destination(self.registry, self._settled().base_url.with_target(path))

    def _manifest_url(self, repository: str, reference: str) -> URL:
        return self._url(f"/v2/{repository}/manifests/{reference}")

    def _send(
        self,
        method: str,
        url: URL,
        headers: dict[str, str] | None = None,
        *,
        content: bytes | None = None,
        stream: bool = False,
        retry_safe: RetrySafe | None = None,
    ) -> Response:
        """The boundary: every request goes through here, every failure to get an answer is
        translated.

        A ``stream`` answer is not read: it may be larger than any other answer is allowed to be.
        """
        http = self._settled().http
        extensions: dict[str, object] = {UNBOUNDED: True} if stream else {}
        if retry_safe is not None:
            extensions[RETRY_SAFE] = retry_safe
        try:
            return http.send(
                method,
                url,
                headers or {},
                content=content,
                extensions=extensions,
                stream=stream,
            )
        except RequestError as exc:
            error = request_error(self.registry, url, exc, self._options.retry.request_timeout)
            raise _marked(error, extensions) from exc

    def _ok(self, response: Response) -> Response:
        if not response.is_success:
            raise _marked(status_error(self.registry, response), response.request.extensions)
        return response

    def _check_digest(self, kind: str, repository: str, digest: str) -> None:
        if not DIGEST_RE.fullmatch(digest):
            raise RegistryError(self.registry, f"{kind} {repository}@{digest}: not a digest")


def _marked(error: RegistryError, extensions: dict[str, object]) -> RegistryError:
    """``error`` as the retry layer marked its request: a write another try may mend, or one
    not sent again because another writer got there first."""
    if extensions.get(NOT_SENT_AGAIN):
        return TransientWriteError(error.registry, _unprefixed(error))
    if extensions.get(OVERTAKEN):
        return RegistryError(
            error.registry,
            f"{_unprefixed(error)}; not sent again: another writer wrote there meanwhile,"
            " and what it wrote is left untouched",
        )
    return error


def _unprefixed(error: RegistryError) -> str:
    return str(error).removeprefix(f"registry {error.registry}: ")


def hasher(algorithm: str) -> _Hash:
    """A new hash of ``algorithm``. hashlib (OpenSSL's, a few ms to import) is imported only
    once something is hashed: a plan takes every digest from an answer's header."""
    import hashlib  # noqa: PLC0415

    return hashlib.new(algorithm)


def digest_of(content: bytes, algorithm: str) -> str:
    hashed = hasher(algorithm)
    hashed.update(content)
    return f"{algorithm}:{hashed.hexdigest()}"
