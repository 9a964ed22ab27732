"""Copying through a Docker daemon with the docker SDK: pull by digest, tag, push.

The daemon rewrites most manifests it pushes (``dockerform``), so the source's exact bytes are
read from the registry first and the copy is refused, before anything is pulled or written,
unless the daemon is certain to push them unchanged. The push's own digest is checked too; the
applier then reads the tag back, as for every engine.

The daemon reaches registries with its own settings (``/etc/docker/certs.d``, its insecure
registries); credentials tagmgr found go to it in the API's ``X-Registry-Auth`` header, never on a
command line. The daemon work itself is ``dockerdaemon``, loaded only when a copy runs.
"""

from __future__ import annotations

from tagmgr.engines.dockerform import refusal
from tagmgr.engines.names import ENGINE_NAMES
from tagmgr.errors import CopyRefused, DockerError
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries

NAME = "docker"


class DockerEngine:
    writes_per_repository = 1  # one daemon pull and push at a time into a repository

    def __init__(self, registries: Registries) -> None:
        self._registries = registries

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        client = self._registries.client(source.registry)
        wanted = source.digest or str(source.tag)
        descriptor, content = client.get_manifest(source.repository, wanted)
        reason = refusal(source, destination, descriptor.media_type, content)
        if reason is not None:
            raise CopyRefused(
                f"--engine {NAME} refuses {source.name}@{descriptor.digest}: {reason}. "
                f"Nothing was written; {alternatives()} copies the exact bytes"
            )
        source = source.with_digest(descriptor.digest)
        auth = self._auth(source)  # the destination is in the same repository (see refusal)
        secrets = [auth["password"]] if auth else []
        # The SDK loads only when a copy runs, not with the command line.
        from tagmgr.engines.dockerdaemon import copy_through  # noqa: PLC0415

        pushed = copy_through(source, destination, auth, secrets)
        if pushed != descriptor.digest:
            raise DockerError(
                f"the docker daemon pushed {destination} at {pushed}, not {descriptor.digest}"
            )

    def _auth(self, ref: ImageReference) -> dict[str, str] | None:
        """The daemon's ``X-Registry-Auth`` content for ``ref``'s registry, if tagmgr has any."""
        credentials = self._registries.client(ref.registry).connection().credentials(ref.repository)
        if credentials is None:
            return None
        return {
            "username": credentials.username,
            "password": credentials.password,
            "serveraddress": ref.registry,
        }


def alternatives() -> str:
    """The engines that copy exact bytes, as a person would type them."""
    names = [name for name in ENGINE_NAMES if name not in (NAME, "auto")]
    return " or ".join(f"--engine {name}" for name in names)
