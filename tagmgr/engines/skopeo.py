"""Copying with skopeo ``--all --preserve-digests``; credentials go through a private authfile.

skopeo reaches each registry the way tagmgr's own client settled it (scheme, TLS verification, CA
directory, credentials), so a plan and its application never disagree about where they talk to.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tagmgr import process
from tagmgr.errors import CommandError
from tagmgr.reference import ImageReference
from tagmgr.registry import Connection, Registries

log = logging.getLogger(__name__)

SKOPEO = "skopeo"
_FATAL_MESSAGE = re.compile(r'level=fatal msg="((?:[^"\\]|\\.)*)"')
COPY_TIMEOUT_SECONDS = 600.0


class SkopeoEngine:
    # docker-registry's filesystem storage answers 500 when skopeo uploads blobs into one
    # repository from several processes at once (measured with 12 concurrent copies of one index).
    writes_per_repository = 1

    def __init__(self, registries: Registries) -> None:
        self._registries = registries

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        """Returns None: skopeo says nothing of what it wrote, so the caller reads it back."""
        src = self._registries.client(source.registry).connection()
        dest = self._registries.client(destination.registry).connection()
        secrets = [c.credentials.password for c in (src, dest) if c.credentials]
        with private_authfile([src, dest]) as authfile:
            argv = [
                SKOPEO,
                "copy",
                "--all",
                "--preserve-digests",
                "--quiet",
                "--retry-times=3",
                *connection_flags("src", src, authfile),
                *connection_flags("dest", dest, authfile),
                f"docker://{source}",
                f"docker://{destination}",
            ]
            result = process.run(argv, timeout=COPY_TIMEOUT_SECONDS, secrets=secrets)
        if result.returncode != 0:
            log.debug("%s", process.describe_command(argv, secrets))
            reason = process.redact(skopeo_message(result.stderr), secrets)
            raise CommandError(f"skopeo copy exited with {result.returncode}: {reason}")


def skopeo_message(stderr: bytes) -> str:
    """The ``msg="..."`` of skopeo's fatal log line, else its whole error output."""
    text = stderr.decode("utf-8", "replace").strip()
    found = _FATAL_MESSAGE.search(text)
    return found.group(1).replace('\\"', '"') if found else text


def connection_flags(side: str, connection: Connection, authfile: Path) -> list[str]:
    flags = [
        f"--{side}-tls-verify={'true' if connection.tls_verify else 'false'}",
        f"--{side}-authfile={authfile}",
    ]
    if connection.cert_dir is not None:
        flags.append(f"--{side}-cert-dir={connection.cert_dir}")
    return flags


@contextmanager
def private_authfile(connections: list[Connection]) -> Iterator[Path]:
    """An auth.json readable only by us, holding just these registries, removed afterwards.

    skopeo never looks at the user's own auth files, so it uses exactly what tagmgr resolved,
    and no secret ever appears on a command line.
    """
    auths = {
        c.registry: {"auth": _basic_token(c.credentials.username, c.credentials.password)}
        for c in connections
        if c.credentials is not None
    }
    with tempfile.TemporaryDirectory(prefix="tagmgr-auth-") as directory:
        path = Path(directory) / "auth.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"auths": auths}, handle)
        yield path


def _basic_token(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
