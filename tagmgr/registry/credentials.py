"""Find the credentials for a repository the way skopeo and podman do (containers-auth.json(5)).

The files and their order are ``authfiles``'s. The first file that has credentials for the
repository gives them. In one file: ``credHelpers[host]``; else the ``auths`` entry whose key
matches best: the repository (``host/team/app``), then each namespace above it (``host/team``),
then the host; then a key written as a URL (``https://host/v1/``) or as another name of Docker Hub
(``index.docker.io``). The best key decides for its file: an entry without a secret (Docker writes
``{}`` beside a credential helper) gives none. Last, Docker's ``credsStore``, which containers
tools do not read. ``~/.dockercfg`` has host keys only: a path in a key is ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from tagmgr.errors import CommandError, CredentialsError
from tagmgr.oci.reference import DOCKER_HUB
from tagmgr.registry.authfiles import AuthFile, read_auth_files
from tagmgr.registry.options import CredentialLookup, Credentials, RegistryOptions
from tagmgr.system import logs

log = logs.get(__name__)

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_KEYS = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})
HELPER_TIMEOUT = 60.0


class Keyring:
    """The credentials of one run: the auth files read once, each answer kept; thread-safe."""

    def __init__(self, files: list[AuthFile], searched: list[str]) -> None:
        self._files = files
        self.searched = ", ".join(searched)
        """Where credentials were looked for, for a "none found in ..." message."""
        self._found: dict[tuple[str, str], Credentials | CredentialsError | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, options: RegistryOptions, env: Mapping[str, str] | None = None) -> Keyring:
        """Read the auth files now: a named file that cannot be used is refused here, once."""
        files, searched = read_auth_files(options, os.environ if env is None else env)
        log.debug("credentials are looked for in %s", ", ".join(searched))
        return cls(files, searched)

    def find(self, registry: str, repository: str = "") -> Credentials | None:
        """The credentials for ``repository`` of ``registry`` (``""``: the registry's own).

        Answers and failures are kept: a helper runs once per repository, however many threads
        and requests ask, and one that failed is not asked again.
        """
        key = (registry, repository)
        with self._lock:
            if key not in self._found:
                try:
                    self._found[key] = self._search(registry, repository)
                except CredentialsError as failure:
                    self._found[key] = failure
            found = self._found[key]
        if isinstance(found, CredentialsError):
            raise found
        return found

    def lookup(self, registry: str) -> CredentialLookup:
        """``find`` for one registry, as its session and copy engines ask."""
        return lambda repository: self.find(registry, repository)

    def _search(self, registry: str, repository: str) -> Credentials | None:
        for auth_file in self._files:
            credentials = _from_file(auth_file, registry, repository)
            if credentials is not None:
                where = f"{registry}/{repository}" if repository else registry
                log.debug("credentials for %s: %s", where, credentials.described())
                return credentials
        return None


def _from_file(auth_file: AuthFile, registry: str, repository: str) -> Credentials | None:
    config = auth_file.content
    if not auth_file.legacy:
        helper = _for_host(config.get("credHelpers"), registry)
        if isinstance(helper, str) and helper:
            return _from_helper(auth_file.name, "credHelpers", helper, registry)
    found = _best_entry(config.get("auths"), registry, repository, auth_file.legacy)
    if found is not None:
        key, entry = found
        if isinstance(entry, dict) and (entry.get("auth") or entry.get("password")):
            return _from_entry(auth_file.name, key, registry, entry)
    store = None if auth_file.legacy else config.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(auth_file.name, "credsStore", store, registry)
    return None


def keys_for(registry: str, repository: str) -> list[str]:
    """The exact ``auths`` keys for a repository, most specific first: ``host/team/app``,
    ``host/team``, ``host``."""
    parts = repository.split("/") if repository else []
    return ["/".join([registry, *parts[:length]]) for length in range(len(parts), -1, -1)]


def _best_entry(
    auths: object, registry: str, repository: str, legacy: bool
) -> tuple[str, object] | None:
    if not isinstance(auths, dict):
        return None
    for key in [registry] if legacy else keys_for(registry, repository):
        if key in auths:
            return key, auths[key]
    wanted = _host_name(registry)
    for key, value in auths.items():
        if _normalize_key(key, legacy) == wanted:
            return key, value
    return None


def _for_host(section: object, registry: str) -> object:
    """The value in ``section`` whose key names the host ``registry``, or None."""
    if not isinstance(section, dict):
        return None
    wanted = _host_name(registry)
    for key, value in section.items():
        if _normalize_key(key, legacy=False) == wanted:
            return value
    return None


def _normalize_key(key: str, legacy: bool) -> str:
    """``https://host/v1/`` -> ``host``; Docker Hub's names -> ``docker.io``. A key with no
    scheme keeps its path (``host/team`` matches only exactly), except in a legacy file."""
    stripped = key.removeprefix("http://").removeprefix("https://")
    if legacy or stripped != key:
        stripped = stripped.split("/", 1)[0]
    return _host_name(stripped)


def _host_name(host: str) -> str:
    return DOCKER_HUB if host in _DOCKER_HUB_KEYS else host


def _from_entry(name: str, key: str, registry: str, entry: dict[str, Any]) -> Credentials:
    source = f"{name} ({key})" if key.startswith(f"{registry}/") else name
    if not entry.get("auth"):
        return Credentials(str(entry.get("username", "")), str(entry["password"]), source)
    try:
        decoded = base64.b64decode(str(entry["auth"]), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{name}: the 'auth' value of {key!r} is not valid base64") from exc
    username, colon, password = decoded.partition(":")
    if not colon:
        raise CredentialsError(
            f"{name}: the 'auth' value of {key!r} is not base64 of 'user:password'"
        )
    return Credentials(username, password.strip("\x00"), source)


def _from_helper(name: str, section: str, helper: str, registry: str) -> Credentials | None:
    """Ask ``docker-credential-HELPER get``: the server goes on stdin, the secret is on stdout."""
    program = f"docker-credential-{helper}"
    server = DOCKER_HUB_KEY if registry == DOCKER_HUB else registry
    where = f"{name}: {section}"
    # Here, not at the top: a plan with no helper configured never starts a process.
    from tagmgr.system import process  # noqa: PLC0415

    try:
        result = process.run([program, "get"], stdin=server.encode(), timeout=HELPER_TIMEOUT)
    except CommandError as exc:
        raise CredentialsError(f"{where}: credential helper {helper!r}: {exc}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        if "credentials not found" in output.lower():
            return None
        first_line = _failure_line(result.stderr, result.stdout)
        raise CredentialsError(
            f"{where}: {program} get {server} exited with {result.returncode}: {first_line}"
        )
    return _parse_helper_output(where, program, result.stdout, f"{program} ({section} in {name})")


def _failure_line(stderr: bytes, stdout: bytes) -> str:
    """Why a helper failed, never what it printed as an answer: docker's helpers explain on stdout,
    but one that fails after printing its JSON answer must not get its secret into our message."""
    for stream in (stderr, stdout):
        lines = stream.decode("utf-8", "replace").strip().splitlines()
        if lines and not lines[0].lstrip().startswith("{"):
            return lines[0]
    return "no explanation"


def _parse_helper_output(where: str, program: str, stdout: bytes, source: str) -> Credentials:
    try:
        answer = json.loads(stdout)
        return Credentials(str(answer["Username"]), str(answer["Secret"]), source)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise CredentialsError(
            f"{where}: {program} did not answer with JSON holding 'Username' and 'Secret'"
        ) from exc
