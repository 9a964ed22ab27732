"""In use, from what runs: the containers of a Docker host, the pods of a Kubernetes cluster.

``docker://`` is the daemon the docker CLI would use (``DOCKER_CONTEXT``, ``DOCKER_HOST``,
..., see ``tagmgr.system.dockerhost``); ``docker://HOST`` names one: ``docker:///run/docker.sock``
(a unix socket path), ``docker://unix:///run/docker.sock`` or ``docker://tcp://HOST:PORT``. Every
container counts, running or stopped (``docker create`` is enough): its image by every digest the
daemon records for it (``RepoDigests``), and the reference the container was created from.

A file holding ``kubectl get pods -A -o json`` (or one pod's JSON) counts what really runs in
every container, init container and ephemeral container: ``status``'s ``imageID``, by digest.
What the pods name with ``image:`` (what they asked for, an image volume, what status reports) is
read by the one finder of image references in files, as in any Kubernetes file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tagmgr.documents.located import FieldPath, LocatedDocument, render_path
from tagmgr.errors import DockerError, DocumentError, InvalidReferenceError, Problem
from tagmgr.lifecycle.inuse import InUse
from tagmgr.oci.reference import ImageReference

DOCKER_SCHEME = "docker://"
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")
_RUNTIME_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://")  # docker-pullable://, docker://, ...
_STATUS_LISTS = ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")


def familiar(text: str) -> ImageReference:
    """As a container runtime reads a name: ``nginx`` is ``docker.io/library/nginx:latest``."""
    reference = ImageReference.parse_familiar(text)
    if reference.tag is None and reference.digest is None:
        reference = reference.with_tag("latest")
    return reference


def docker_in_use(value: str) -> list[InUse]:
    """Every container's image on the Docker host ``value`` names (``docker://[HOST]``)."""
    # The SDK loads only when a Docker host is asked, not with the command line.
    from tagmgr.system.dockerhost import connect, parse_host  # noqa: PLC0415

    text = value.removeprefix(DOCKER_SCHEME)
    records: list[InUse] = []
    with connect(parse_host(text) if text else None) as api:
        digests: dict[str, list[str]] = {}
        for container in api.containers(all=True):
            image_id = str(container.get("ImageID", ""))
            if image_id not in digests:
                image = api.inspect_image(image_id)  # type: ignore[no-untyped-call]
                digests[image_id] = list(image.get("RepoDigests") or [])
            names = container.get("Names") or [container.get("Id", "?")[:12]]
            where = f"{value}: container {str(names[0]).lstrip('/')} ({container.get('State')})"
            created_from = str(container.get("Image", ""))
            named = [] if _IMAGE_ID.fullmatch(created_from) else [created_from]
            records += [InUse(_from_daemon(ref, value), where) for ref in digests[image_id] + named]
    return records


def _from_daemon(text: str, value: str) -> ImageReference:
    try:
        return familiar(text)
    except InvalidReferenceError as error:
        message = f"{value}: the daemon names an image tagmgr cannot read: {error}"
        raise DockerError(message) from error


def is_pod_list(documents: list[LocatedDocument]) -> bool:
    """``kubectl get pods -o json``: a List whose items are all Pods, or one Pod."""
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        return False
    data = documents[0].data
    if data.get("kind") == "Pod":
        return True
    items = data.get("items")
    return (
        data.get("kind") == "List"
        and isinstance(items, list)
        and bool(items)
        and all(isinstance(item, dict) and item.get("kind") == "Pod" for item in items)
    )


def pods_running(path: str, documents: list[LocatedDocument]) -> list[InUse]:
    """The digest each container of the pods runs; all unreadable values reported at once."""
    (doc,) = documents
    data = doc.data if isinstance(doc.data, dict) else {}
    pods = [((), data)] if data.get("kind") == "Pod" else _items(data)
    records: list[InUse] = []
    problems: list[Problem] = []
    for pod_path, pod in pods:
        for field, container, value in _image_ids(pod, pod_path):
            try:
                reference = _runtime_reference(value)
            except InvalidReferenceError as error:
                message = f"not an image reference by digest ({error})"
                problems.append(Problem(doc.location(field), render_path(field), message))
                continue
            if reference is not None:
                records.append(InUse(reference, f"{path}: {_pod_name(pod)}/{container}"))
    if problems:
        raise DocumentError(problems)
    return list(dict.fromkeys(records))  # spec and status often name the same image


def _items(data: dict[str, object]) -> list[tuple[FieldPath, dict[str, object]]]:
    items = data.get("items")
    listed = items if isinstance(items, list) else []
    return [(("items", i), item) for i, item in enumerate(listed) if isinstance(item, dict)]


def _pod_name(pod: dict[str, object]) -> str:
    metadata = pod.get("metadata")
    names = metadata if isinstance(metadata, dict) else {}
    return f"{names.get('namespace', 'default')}/{names.get('name', '?')}"


def _image_ids(pod: dict[str, object], path: FieldPath) -> Iterator[tuple[FieldPath, str, object]]:
    """(field, container name, value) for every ``status`` ``imageID`` of a pod."""
    status = pod.get("status")
    lists = status if isinstance(status, dict) else {}
    for list_name in _STATUS_LISTS:
        entries = lists.get(list_name)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and "imageID" in entry:
                field = (*path, "status", list_name, index, "imageID")
                yield field, str(entry.get("name", index)), entry["imageID"]


def _runtime_reference(value: object) -> ImageReference | None:
    """``imageID`` as Kubernetes reports it; None for a bare image ID (no repository).

    ``imageID`` is ``docker-pullable://repo@sha256:...``, ``repo@sha256:...`` or, for an image
    the node never pulled, only ``[docker://]sha256:...``, which names no repository to protect.
    """
    if not isinstance(value, str):
        raise InvalidReferenceError(f"{value!r} is not text")
    text = _RUNTIME_PREFIX.sub("", value, count=1)
    if _IMAGE_ID.fullmatch(text) or not text:
        return None
    reference = familiar(text)
    if reference.digest is None:
        raise InvalidReferenceError(f"{value!r} names no digest")
    return reference
