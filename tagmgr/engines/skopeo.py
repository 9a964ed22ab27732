"""Copying with skopeo ``--all --preserve-digests``; credentials go through an auth file in memory.

skopeo reaches each registry the way tagmgr's own client settled it (scheme, TLS verification, CA
directory, credentials), so a plan and its application never disagree about where they talk to.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from tagmgr.errors import CommandError
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Connection, Credentials, Registries
from tagmgr.system import process

SKOPEO = "skopeo"
_FATAL_MESSAGE = re.compile(r'level=fatal msg="((?:[^"\\]|\\.)*)"')
COPY_TIMEOUT_SECONDS = 600.0


class SkopeoEngine:
    """skopeo retries its own requests (``--retry-times``, from the registries' retry policy):
    a copy that fails after them is final."""

    # docker-registry's filesystem storage answers 500 when skopeo uploads blobs into one
    # repository from several processes at once (docs/design.md).
    writes_per_repository = 1

    def __init__(self, registries: Registries) -> None:
        self._registries = registries

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        """Returns None: skopeo says nothing of what it wrote, so the caller reads it back."""
        src = self._registries.client(source.registry).connection()
        dest = self._registries.client(destination.registry).connection()
        logins = {
            f"{ref.registry}/{ref.repository}": found
            for ref, connection in ((source, src), (destination, dest))
            if (found := connection.credentials(ref.repository)) is not None
        }
        secrets = [credentials.password for credentials in logins.values()]
        with memory_authfile(logins) as (authfile, descriptor):
            argv = [
                SKOPEO,
                "copy",
                "--all",
                "--preserve-digests",
                "--quiet",
                f"--retry-times={self._registries.options.retry.attempts - 1}",
                *connection_flags("src", src, authfile),
                *connection_flags("dest", dest, authfile),
                f"docker://{source}",
                f"docker://{destination}",
            ]
            _run(argv, secrets, descriptor)


def push_local(
    registries: Registries, source: str, destination: ImageReference, daemon_host: str | None
) -> None:
    """``skopeo copy --preserve-digests SOURCE docker://DESTINATION``, ``SOURCE`` an image on
    this machine as skopeo spells it (``oci:DIR:REF``, ``docker-daemon:NAME:TAG``, ...).

    A layout's manifest is copied byte for byte; an image with none (docker save, a daemon) gets
    the manifest skopeo writes. skopeo reaches a daemon only where it is told (it does not read
    ``DOCKER_HOST``): ``daemon_host`` is given to it as ``--src-daemon-host``.
    """
    dest = registries.client(destination.registry).connection()
    found = dest.credentials(destination.repository)
    logins = {f"{destination.registry}/{destination.repository}": found} if found else {}
    secrets = [found.password] if found else []
    with memory_authfile(logins) as (authfile, descriptor):
        argv = [
            SKOPEO,
            "copy",
            "--preserve-digests",
            "--quiet",
            f"--retry-times={registries.options.retry.attempts - 1}",
            *([f"--src-daemon-host={daemon_host}"] if daemon_host else []),
            *connection_flags("dest", dest, authfile),
            source,
            f"docker://{destination}",
        ]
        _run(argv, secrets, descriptor)


def _run(argv: list[str], secrets: list[str], authfile: int) -> None:
    result = process.run(argv, timeout=COPY_TIMEOUT_SECONDS, secrets=secrets, pass_fds=[authfile])
    if result.returncode != 0:
        reason = process.redact(skopeo_message(result.stderr), secrets)
        raise CommandError(f"skopeo copy exited with {result.returncode}: {reason}")


def skopeo_message(stderr: bytes) -> str:
    """The ``msg="..."`` of skopeo's fatal log line, else its whole error output."""
    text = stderr.decode("utf-8", "replace").strip()
    found = _FATAL_MESSAGE.search(text)
    return found.group(1).replace('\\"', '"') if found else text


def connection_flags(side: str, connection: Connection, authfile: str) -> list[str]:
    flags = [
        f"--{side}-tls-verify={'true' if connection.tls_verify else 'false'}",
        f"--{side}-authfile={authfile}",
    ]
    if connection.cert_dir is not None:
        flags.append(f"--{side}-cert-dir={connection.cert_dir}")
    return flags


@contextmanager
def memory_authfile(logins: dict[str, Credentials]) -> Iterator[tuple[str, int]]:
    """An auth.json holding just these logins, by repository (``host/name``, the most specific
    key skopeo looks for), as ``(path, descriptor)``, in memory only.

    The file is anonymous (``memfd_create``): skopeo inherits the descriptor and opens it as
    ``/proc/self/fd/N`` (skopeo 1.9 reads it so), and it is gone once both have closed it, however
    either ends. Nothing is ever on disk, and no secret ever appears on a command line. skopeo
    1.9 (containers/image before 5.24) still reads the user's default auth files after this one,
    so for a registry this file has no key for, skopeo may find credentials tagmgr did not use.
    """
    auths = {
        key: {"auth": _basic_token(credentials.username, credentials.password)}
        for key, credentials in logins.items()
    }
    descriptor = os.memfd_create("tagmgr-auth.json")
    try:
        content = json.dumps({"auths": auths}).encode()
        while content:
            content = content[os.write(descriptor, content) :]
        yield f"/proc/self/fd/{descriptor}", descriptor
    finally:
        os.close(descriptor)


def _basic_token(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
