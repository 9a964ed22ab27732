"""Which auth files are read, in which order, and reading each of them once.

The order is containers/image's (containers-auth.json(5)), which skopeo, podman and buildah use:

1. ``--authfile``, else ``$TAGMGR_AUTH_JSON`` (the content itself), else ``$REGISTRY_AUTH_FILE``:
   when one of them is given it is the only source, as in containers/image since 5.24;
2. else the primary file: ``$XDG_RUNTIME_DIR/containers/auth.json`` when ``XDG_RUNTIME_DIR`` is
   set and not empty (nothing when that directory does not exist: a warning, as containers/image
   gives), else ``/run/containers/$UID/auth.json`` (any UID: root in a CI container included);
   ``$HOME/.config/containers/auth.json`` off Linux;
3. then ``${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json``,
   ``${DOCKER_CONFIG:-$HOME/.docker}/config.json`` and ``$HOME/.dockercfg`` (the legacy format,
   whose top-level object is the ``auths`` map).

Every file is read once, before any request, so a named file that is missing, unreadable or not
JSON is refused once, and a pipe (``--authfile /dev/stdin``, ``<(...)``) can be the source. A
default file that does not exist is skipped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from tagmgr.errors import CredentialsError
from tagmgr.registry.options import RegistryOptions
from tagmgr.system import logs

log = logs.get(__name__)

AUTH_JSON_VARIABLE = "TAGMGR_AUTH_JSON"
PER_UID_DIRECTORY = Path("/run/containers")
"""Where the primary file is when ``XDG_RUNTIME_DIR`` is not set: ``/run/containers/UID``."""


class Location(NamedTuple):
    """A place an auth file may be; ``origin`` says how the user named it (empty: a default)."""

    path: Path
    origin: str = ""
    legacy: bool = False


class AuthFile(NamedTuple):
    """One auth file's content, and how messages name it: its path, or ``$TAGMGR_AUTH_JSON``."""

    name: str
    content: Mapping[str, Any]
    legacy: bool = False


def locations(
    options: RegistryOptions,
    env: Mapping[str, str],
    *,
    platform: str = sys.platform,
    uid: int | None = None,
) -> list[Location]:
    """The files to read, in order (``$TAGMGR_AUTH_JSON`` aside, see ``read_auth_files``)."""
    if options.authfile is not None:
        return [Location(options.authfile, "--authfile")]
    if env.get("REGISTRY_AUTH_FILE"):
        return [Location(Path(env["REGISTRY_AUTH_FILE"]), "$REGISTRY_AUTH_FILE")]
    home = Path(env.get("HOME") or Path.home())
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    docker_config = Path(env.get("DOCKER_CONFIG") or home / ".docker")
    found = [
        *_primary(env, home, platform, uid),
        Location(config_home / "containers" / "auth.json"),
        Location(docker_config / "config.json"),
        Location(home / ".dockercfg", legacy=True),
    ]
    return list(dict.fromkeys(found))  # off Linux the primary file may be the next one


def _primary(env: Mapping[str, str], home: Path, platform: str, uid: int | None) -> list[Location]:
    """The file ``podman login`` and ``skopeo login`` write when no file is named."""
    if not platform.startswith("linux"):
        return [Location(home / ".config" / "containers" / "auth.json")]
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if not runtime_dir:
        return [
            Location(PER_UID_DIRECTORY / str(os.getuid() if uid is None else uid) / "auth.json")
        ]
    if not Path(runtime_dir).exists():
        log.warning(
            "%s, named by $XDG_RUNTIME_DIR, does not exist: its containers/auth.json is not "
            "searched for credentials (create the directory or unset XDG_RUNTIME_DIR)",
            runtime_dir,
        )
        return []
    return [Location(Path(runtime_dir, "containers", "auth.json"))]


def read_auth_files(
    options: RegistryOptions,
    env: Mapping[str, str],
    *,
    platform: str = sys.platform,
    uid: int | None = None,
) -> tuple[list[AuthFile], list[str]]:
    """The auth files to search, read, and the names of all the places searched, in order."""
    content = env.get(AUTH_JSON_VARIABLE)
    if options.authfile is None and content:
        name = f"${AUTH_JSON_VARIABLE}"
        return [AuthFile(name, parse(content, name))], [name]
    places = locations(options, env, platform=platform, uid=uid)
    files = [auth_file for place in places if (auth_file := _read(place)) is not None]
    return files, [str(place.path) for place in places]


def _read(place: Location) -> AuthFile | None:
    """The file at ``place``; None for a default one that does not exist."""
    named = f" (from {place.origin})" if place.origin else ""
    try:
        with place.path.open("rb") as stream:  # a pipe can be read once only: read it whole
            raw = stream.read()
    except FileNotFoundError as exc:
        if not place.origin:
            return None
        raise CredentialsError(f"{place.path}: no such auth file{named}") from exc
    except IsADirectoryError as exc:
        raise CredentialsError(f"{place.path}: a directory, not an auth file{named}") from exc
    except OSError as exc:
        raise CredentialsError(f"{place.path}: cannot read: {exc.strerror}{named}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CredentialsError(f"{place.path}: not valid JSON") from exc
    content = parse(text, str(place.path))
    return AuthFile(str(place.path), {"auths": content} if place.legacy else content, place.legacy)


def parse(text: str, name: str) -> dict[str, Any]:
    """An auth file's JSON object; the message names the file, never what is in it."""
    try:
        config = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CredentialsError(f"{name}: not valid JSON") from exc
    if not isinstance(config, dict):
        raise CredentialsError(f"{name}: expected a JSON object with an 'auths' map")
    return config
