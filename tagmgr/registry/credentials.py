"""Find a registry's credentials the way podman, skopeo and docker do (containers-auth.json(5)).

Files: ``--authfile``, else ``$REGISTRY_AUTH_FILE``, else the first default file that has an entry:
``${XDG_RUNTIME_DIR}/containers/auth.json``, ``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json``,
``${DOCKER_CONFIG:-~/.docker}/config.json``. In one file, ``credHelpers[host]`` wins, then an
``auths`` entry that holds a secret, then ``credsStore``. Keys may be written as URLs
(``https://index.docker.io/v1/``); keys naming a namespace (``host/org``) are not used.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tagmgr.errors import CommandError, CredentialsError
from tagmgr.oci.reference import DOCKER_HUB
from tagmgr.registry.options import Credentials, RegistryOptions
from tagmgr.system import process

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_KEYS = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})
HELPER_TIMEOUT = 60.0


def find_credentials(
    registry: str, options: RegistryOptions, env: Mapping[str, str] | None = None
) -> Credentials | None:
    """Return the credentials for ``registry`` from the first file that has some, or None."""
    for path in auth_files(options, os.environ if env is None else env):
        credentials = _from_file(path, registry)
        if credentials is not None:
            return credentials
    return None


def auth_files(options: RegistryOptions, env: Mapping[str, str]) -> list[Path]:
    """The files to read, in order; an explicit file that does not exist is an error."""
    explicit = _explicit_file(options, env)
    if explicit is not None:
        return [explicit]
    return [path for path in default_auth_files(env) if path.is_file()]


def default_auth_files(env: Mapping[str, str]) -> list[Path]:
    home = Path(env.get("HOME") or Path.home())
    files = []
    if env.get("XDG_RUNTIME_DIR"):
        files.append(Path(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    files.append(Path(env.get("XDG_CONFIG_HOME") or home / ".config", "containers", "auth.json"))
    files.append(Path(env.get("DOCKER_CONFIG") or home / ".docker", "config.json"))
    return files


def describe_sources(options: RegistryOptions, env: Mapping[str, str] | None = None) -> str:
    """Where credentials were looked for, for a "none found in ..." message."""
    env = os.environ if env is None else env
    explicit = _explicit_file(options, env)
    return str(explicit) if explicit else ", ".join(str(p) for p in default_auth_files(env))


def _explicit_file(options: RegistryOptions, env: Mapping[str, str]) -> Path | None:
    if options.authfile is not None:
        path, origin = options.authfile, "--authfile"
    elif env.get("REGISTRY_AUTH_FILE"):
        path, origin = Path(env["REGISTRY_AUTH_FILE"]), "$REGISTRY_AUTH_FILE"
    else:
        return None
    if not path.is_file():
        raise CredentialsError(f"{path}: no such auth file (from {origin})")
    return path


def _from_file(path: Path, registry: str) -> Credentials | None:
    config = _load(path)
    helper = _matching(config.get("credHelpers"), registry)
    if isinstance(helper, str):
        return _from_helper(path, helper, registry)
    entry = _matching(config.get("auths"), registry)
    if isinstance(entry, dict) and (entry.get("auth") or entry.get("password")):
        return _from_entry(path, entry)
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(path, store, registry)
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CredentialsError(f"{path}: cannot read: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{path}: not valid JSON") from exc
    if not isinstance(config, dict):
        raise CredentialsError(f"{path}: expected a JSON object with an 'auths' map")
    return config


def _matching(section: object, registry: str) -> object:
    """The value in ``section`` whose key names ``registry``, or None."""
    if not isinstance(section, dict):
        return None
    wanted = _normalize_key(registry)
    for key, value in section.items():
        if _normalize_key(key) == wanted:
            return value
    return None


def _normalize_key(key: str) -> str | None:
    """``https://host/v1/`` -> ``host``; Docker Hub's names -> ``docker.io``; namespaces -> None."""
    _, sep, rest = key.partition("://")
    if not sep and "/" in key:
        return None
    host = rest.split("/", 1)[0] if sep else key
    return DOCKER_HUB if host in _DOCKER_HUB_KEYS else host


def _from_entry(path: Path, entry: dict[str, Any]) -> Credentials:
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"]), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise CredentialsError(f"{path}: an 'auth' value is not valid base64") from exc
        username, colon, password = decoded.partition(":")
        if not colon:
            raise CredentialsError(f"{path}: an 'auth' value is not base64 of 'user:password'")
        return Credentials(username, password)
    return Credentials(str(entry.get("username", "")), str(entry["password"]))


def _from_helper(path: Path, helper: str, registry: str) -> Credentials | None:
    """Ask ``docker-credential-HELPER get``: the server goes on stdin, the secret is on stdout."""
    program = f"docker-credential-{helper}"
    server = DOCKER_HUB_KEY if registry == DOCKER_HUB else registry
    try:
        result = process.run([program, "get"], stdin=server.encode(), timeout=HELPER_TIMEOUT)
    except CommandError as exc:
        raise CredentialsError(f"{path}: credential helper {helper!r}: {exc}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        if "credentials not found" in output.lower():
            return None
        first_line = _failure_line(result.stderr, result.stdout)
        raise CredentialsError(
            f"{path}: {program} get {server} exited with {result.returncode}: {first_line}"
        )
    return _parse_helper_output(path, program, result.stdout)


def _failure_line(stderr: bytes, stdout: bytes) -> str:
    """Why a helper failed, never what it printed as an answer: docker's helpers explain on stdout,
    but one that fails after printing its JSON answer must not get its secret into our message."""
    for stream in (stderr, stdout):
        lines = stream.decode("utf-8", "replace").strip().splitlines()
        if lines and not lines[0].lstrip().startswith("{"):
            return lines[0]
    return "no explanation"


def _parse_helper_output(path: Path, program: str, stdout: bytes) -> Credentials:
    try:
        answer = json.loads(stdout)
        return Credentials(str(answer["Username"]), str(answer["Secret"]))
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise CredentialsError(
            f"{path}: {program} did not answer with JSON holding 'Username' and 'Secret'"
        ) from exc
