"""Registry authentication as an auth flow (``sender.AuthFlow``; the distribution token protocol).

Send; on a 401 read ``WWW-Authenticate``. ``Basic``: send again with the credentials.
``Bearer``: GET the realm with ``service`` and each ``scope`` (basic credentials if any, anonymous
otherwise), keep the token per (realm, service, scope) until it expires, send again. A token
already held for the request's scope is sent up front. A second 401 is an ``AuthenticationError``.
Credentials and tokens go only to the registry's own host and port (and its realm): a request
elsewhere (an upload ``Location`` on another host) is sent without them.
Credentials go to a realm over HTTPS only, unless the registry may be spoken to in clear anyway
(loopback, ``--insecure-registry``).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from tagmgr.errors import AuthenticationError, RegistryError
from tagmgr.registry.failures import status_error
from tagmgr.registry.messages import URL, InvalidURL, Request, Response
from tagmgr.registry.options import CredentialLookup, Credentials, goes_to
from tagmgr.registry.retry import Decision, decide

DEFAULT_TOKEN_LIFETIME = 60.0  # seconds, when the token service does not say (per the spec)
EXPIRY_MARGIN = 5.0
_SCHEME = re.compile(r"[\s,]*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)")
_PARAM = re.compile(
    r'\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?'
)
_ESCAPE = re.compile(r"\\(.)")
_ACTIONS = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}
_REPOSITORY_PATH = re.compile(r"^/v2/(.+)/(?:manifests|blobs|tags|referrers)/")


class Challenge(NamedTuple):
    scheme: str
    params: Mapping[str, str] = MappingProxyType({})


def parse_challenges(header: str) -> list[Challenge]:
    """Parse ``WWW-Authenticate``: schemes lowercased, parameters by lowercased name."""
    challenges: list[Challenge] = []
    position = 0
    while (scheme := _SCHEME.match(header, position)) is not None:
        params: dict[str, str] = {}
        position = scheme.end()
        while (param := _PARAM.match(header, position)) is not None and param.end() > position:
            quoted, bare = param.group(2), param.group(3)
            params[param.group(1).lower()] = (
                _ESCAPE.sub(r"\1", quoted) if quoted is not None else bare
            )
            position = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges


def _insufficient_scope(response: Response, scope: str) -> str:
    """``scope`` if the registry says the token lacked it (``error="insufficient_scope"``)."""
    header = response.headers.get("WWW-Authenticate", "")
    refused = any(c.params.get("error") == "insufficient_scope" for c in parse_challenges(header))
    return scope if refused else ""


def repository_of(request: Request) -> str:
    """The repository a request is under, ``""`` for others (``/v2/``)."""
    match = _REPOSITORY_PATH.match(request.url.path)
    return match.group(1) if match else ""


def scope_for(request: Request) -> str:
    """The scopes a request under a repository needs, space-separated; ``""`` for others.

    Reads need ``pull``; writes ``pull,push``; a DELETE ``delete``. A cross-repository mount
    (``?mount=...&from=OTHER``) also needs ``pull`` on the repository it mounts from.
    """
    repository = repository_of(request)
    if not repository:
        return ""
    actions = _ACTIONS.get(request.method, "pull,push")
    scopes = [f"repository:{repository}:{actions}"]
    source = request.url.params.get("from")
    if request.url.params.get("mount") and source:
        scopes.append(f"repository:{source}:pull")
    return " ".join(scopes)


class TokenCache:
    """Bearer tokens by (realm, service, scope), each with its expiry on a monotonic clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))
        return token if token and self._clock() < expires else None

    def put(self, key: tuple[str, str, str], token: str, lifetime: float) -> None:
        with self._lock:
            self._tokens[key] = (token, self._clock() + lifetime - EXPIRY_MARGIN)

    def discard(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)


class RegistryAuth:
    """The flow for one registry. ``credentials`` gives them per repository (each request's, or
    ``""`` for the registry's own); ``sources`` says where they were looked for;
    ``clear_text_allowed`` lets requests and credentials go over plain HTTP (a loopback or
    ``--insecure-registry`` registry); without it, a URL of this registry in ``http://`` (an
    upload ``Location`` or a ``Link`` from a registry behind a TLS-terminating proxy) is refused,
    and so is a plain-HTTP token realm where credentials would go."""

    def __init__(
        self,
        registry: str,
        credentials: CredentialLookup,
        sources: str,
        cache: TokenCache | None = None,
        *,
        clear_text_allowed: bool = False,
    ) -> None:
        self._registry = registry
        self._credentials = credentials
        self._sources = sources
        self._cache = cache or TokenCache()
        self._clear_text_allowed = clear_text_allowed
        self._last: Challenge | None = None  # the registry's last challenge answered
        self._lock = threading.Lock()

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        if not goes_to(self._registry, request.url):
            yield request  # an upload Location on another host: the registry's token stays home
            return
        if request.url.scheme != "https" and not self._clear_text_allowed:
            raise RegistryError(
                self._registry,
                f"refusing to send a request to {request.url.without_query()}: this registry is"
                " spoken to over HTTPS, and its token or credentials would travel in clear (a"
                " registry behind a TLS-terminating proxy needs its relative URLs on)",
            )
        presend = self._known_header(request)
        if presend is not None:
            request.headers["Authorization"] = presend
        response = yield request
        if decide(response.status_code) is not Decision.REAUTHENTICATE:
            return
        if not goes_to(self._registry, response.url):
            return  # a redirect's target (blob storage) asking for credentials: not this registry's
        challenge = self._challenge(response)
        if challenge is None:
            return
        scope = scope_for(request)
        repository = repository_of(request)
        credentials = self._credentials(repository)
        if challenge.scheme == "basic":
            request.headers["Authorization"] = self._basic_header(credentials)
        else:
            scope = scope or challenge.params.get("scope", "")
            key = self._key(challenge, scope)
            self._cache.discard(key)
            token_response = yield self._token_request(challenge, scope, credentials)
            token_response.read()
            token = self._store_token(token_response, key, credentials)
            request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if decide(response.status_code) is Decision.REAUTHENTICATE:
            raise self._refused(credentials, _insufficient_scope(response, scope))

    def _known_header(self, request: Request) -> str | None:
        """What to send up front, from the last challenge: basic credentials or a cached token.
        Without one (a registry that asks for none), the request's path is never parsed."""
        with self._lock:
            last = self._last
        if last is None:
            return None
        if last.scheme == "basic":
            credentials = self._credentials(repository_of(request))
            return self._basic_header(credentials) if credentials else None
        token = self._cache.get(self._key(last, scope_for(request)))
        return f"Bearer {token}" if token else None

    def _challenge(self, response: Response) -> Challenge | None:
        """The challenge to answer: Bearer (with a realm) before Basic; others are not spoken."""
        header = response.headers.get("WWW-Authenticate", "")
        usable = [
            c
            for c in parse_challenges(header)
            if c.scheme == "basic" or (c.scheme == "bearer" and "realm" in c.params)
        ]
        chosen = min(usable, key=lambda c: c.scheme != "bearer", default=None)
        if chosen is not None:
            with self._lock:
                self._last = chosen
        return chosen

    def _basic_header(self, credentials: Credentials | None) -> str:
        if credentials is None:
            raise self._refused(credentials)
        pair = f"{credentials.username}:{credentials.password}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"

    def _token_request(
        self, challenge: Challenge, scope: str, credentials: Credentials | None
    ) -> Request:
        realm = self._realm(challenge, credentials)
        params: dict[str, str | list[str]] = {"service": challenge.params.get("service", "")}
        if scope:
            params["scope"] = scope.split(" ")  # one parameter per scope, as the spec asks
        headers = {"Authorization": self._basic_header(credentials)} if credentials else {}
        return Request("GET", realm, params=params, headers=headers)

    def _realm(self, challenge: Challenge, credentials: Credentials | None) -> URL:
        """The challenge's realm, checked: an absolute URL, and HTTPS if credentials go there."""
        try:
            realm = URL.parse(challenge.params["realm"])
        except InvalidURL as exc:
            raise self._bad_realm() from exc
        if not realm.is_absolute:
            raise self._bad_realm()
        if credentials and realm.scheme != "https" and not self._clear_text_allowed:
            host = f"{realm.scheme}://{realm.netloc}"
            raise AuthenticationError(
                self._registry,
                f"token realm {host} is plain HTTP: credentials for {credentials.described()} "
                "would travel in clear, so they are not sent",
            )
        return realm

    def _bad_realm(self) -> RegistryError:
        return RegistryError(self._registry, "the token realm it names is not an absolute URL")

    def _store_token(
        self, response: Response, key: tuple[str, str, str], credentials: Credentials | None
    ) -> str:
        if response.status_code in {401, 403}:
            raise self._refused(credentials)
        if response.status_code != 200:
            raise status_error(self._registry, response)
        try:
            answer = json.loads(response.content)
            token = str(answer.get("token") or answer["access_token"])
            lifetime = float(answer.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (ValueError, RecursionError, KeyError, TypeError, AttributeError) as exc:
            raise RegistryError(
                self._registry, f"token service {key[0]} did not answer with a token"
            ) from exc
        self._cache.put(key, token, lifetime)
        return token

    def _refused(self, credentials: Credentials | None, scope: str = "") -> AuthenticationError:
        if credentials is None:
            return AuthenticationError(
                self._registry, f"needs credentials; none found in {self._sources}"
            )
        if scope:
            return AuthenticationError(
                self._registry,
                f"{credentials.described()} is not granted {scope} by the token service",
            )
        return AuthenticationError(
            self._registry, f"credentials for {credentials.described()} were refused"
        )

    @staticmethod
    def _key(challenge: Challenge, scope: str) -> tuple[str, str, str]:
        return (challenge.params.get("realm", ""), challenge.params.get("service", ""), scope)
