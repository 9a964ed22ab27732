"""The daemon's side of ``--engine docker``: pull by digest, tag, push, and tidy up after.

The daemon is left naming what it named before: the pulled reference and the local destination
tag are removed if they are new, and a local tag of the destination's name is put back on its
image. Docker drops an image's digest references in a repository together with its last tag
there, so digest references that were there before and went with our tag are pulled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker.errors
import requests
from docker import APIClient

from tagmgr.errors import DockerError
from tagmgr.oci.reference import ImageReference
from tagmgr.system import logs, process
from tagmgr.system.dockerhost import connect

log = logs.get(__name__)


def copy_through(
    source: ImageReference,
    destination: ImageReference,
    auth: dict[str, str] | None,
    secrets: list[str],
) -> str:
    """Pull ``source`` (by digest), tag it ``destination``, push that; return the pushed digest.

    ``auth`` is the registry's ``X-Registry-Auth`` content; ``secrets`` are kept out of messages.
    """
    with connect() as api:
        return _Daemon(api, auth, secrets).copy(source, destination)


@dataclass(frozen=True)
class _Daemon:
    api: APIClient
    auth: dict[str, str] | None
    secrets: list[str]

    def copy(self, source: ImageReference, destination: ImageReference) -> str:
        pulled, tagged = str(source), str(destination)
        names_before = self.references(pulled)
        tagged_before = self.image_id(tagged)
        try:
            self.pull(pulled)
            self.api.tag(pulled, destination.name, destination.tag)
            events = self.api.push(
                destination.name, destination.tag, stream=True, decode=True, auth_config=self.auth
            )
            digest = self.follow(events, f"push {tagged}").get("Digest")
        finally:
            self.clean_up(pulled, names_before, tagged, tagged_before)
        if not isinstance(digest, str):
            raise DockerError(f"push {tagged}: the docker daemon did not say what it pushed")
        return digest

    def pull(self, ref: str) -> None:
        name, _, digest = ref.partition("@")
        events = self.api.pull(name, tag=digest, stream=True, decode=True, auth_config=self.auth)
        self.follow(events, f"pull {ref}")

    def follow(self, events: Iterator[dict[str, Any]], what: str) -> dict[str, Any]:
        """Read a pull or push progress stream to its end; its last ``aux`` record, or raise."""
        aux: dict[str, Any] = {}
        for event in events:
            if "error" in event:
                message = process.redact(str(event["error"]), self.secrets)
                raise DockerError(f"docker daemon: {what}: {message}")
            if isinstance(event.get("aux"), dict):
                aux = event["aux"]
            log.debug("docker %s: %s", what, event.get("status", ""))
        return aux

    def clean_up(
        self, pulled: str, names_before: list[str], tagged: str, tagged_before: str | None
    ) -> None:
        """Leave the daemon's names as they were; a failure is logged, never raised over the
        copy's own outcome."""
        try:
            if tagged_before is None:
                self.remove(tagged)
            elif self.image_id(tagged) != tagged_before:
                name, _, tag = tagged.rpartition(":")
                self.api.tag(tagged_before, name, tag, force=True)
            if not names_before:
                self.remove(pulled)
            for ref in names_before:
                if "@" in ref and self.image_id(ref) is None:
                    self.pull(ref)
        except (docker.errors.DockerException, requests.RequestException, DockerError) as error:
            log.warning("docker: could not leave the daemon's images as they were: %s", error)

    def image_id(self, ref: str) -> str | None:
        try:
            image = self.api.inspect_image(ref)  # type: ignore[no-untyped-call]
        except docker.errors.ImageNotFound:
            return None
        return str(image["Id"])

    def references(self, ref: str) -> list[str]:
        """Every tag and digest reference of the image ``ref`` names; [] if there is none."""
        try:
            image = self.api.inspect_image(ref)  # type: ignore[no-untyped-call]
        except docker.errors.ImageNotFound:
            return []
        return [*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])]

    def remove(self, ref: str) -> None:
        """Drop the reference; the image goes with it only if nothing else names or uses it."""
        try:
            self.api.remove_image(ref)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            log.warning("docker: could not remove %s afterwards: %s", ref, error.explanation)
