"""``versions release --local``: each unpinned image's build pushed from this machine straight
to its release tag, never moving a tag, what identifies the build kept.

What "digest kept" means depends on where the build is:

- an OCI layout (``oci:``, ``oci-archive:``) has a manifest: skopeo copies it byte for byte
  (``--preserve-digests``), and the release tag points at exactly the layout's digest;
- a ``docker save`` archive or a Docker daemon has none, so no registry digest exists until it
  is pushed: skopeo writes the manifest as it pushes (layers gzip'd), and what is kept is the
  image ID, the digest of the config: the pushed manifest's config must be it, byte for byte.
  The release tag points at exactly the digest that push produced, and the report names it.

Each tag is looked at just before its push, as ``apply`` re-checks: one that exists is never
written; holding this build already, the image is only pinned; holding another, it is a
conflict. Between that look and the push's last write (its manifest) another writer's tag could
still be overwritten, the same window ``apply`` has.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tagmgr.changes.local import LayoutStore, image_id, opened_files, saved_config
from tagmgr.changes.pinning import as_manifest_entry
from tagmgr.changes.versions import PinMode, VersionEntry, VersionsFile
from tagmgr.errors import TagmgrError
from tagmgr.oci.content import ImageManifest, parse_manifest
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.transport import DOCKER_ARCHIVE, DOCKER_DAEMON, LocalImage
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.targets import Target
from tagmgr.registry import Registries

MANIFEST = "manifest digest"
IMAGE_ID = "image ID"


@dataclass(frozen=True)
class LocalBuild:
    image: LocalImage
    digest: str  # the layout's manifest digest, or the image ID
    kept: str  # MANIFEST or IMAGE_ID: which of them the registry copy keeps


Push = Callable[[LocalImage, ImageReference], None]


def identify(image: LocalImage) -> LocalBuild:
    """What the build's registry copy must keep, read without reading its layers."""
    if image.transport == DOCKER_DAEMON:
        from tagmgr.system.dockerhost import connect  # noqa: PLC0415 (the docker SDK is slow)

        with connect() as api:
            inspected = api.inspect_image(image.ref)  # type: ignore[no-untyped-call]
        return LocalBuild(image, str(inspected["Id"]), IMAGE_ID)
    with opened_files(image) as files:
        if image.transport == DOCKER_ARCHIVE:
            _, config = saved_config(files, image)
            return LocalBuild(image, image_id(config), IMAGE_ID)
        descriptor, _ = LayoutStore(files, image).top()
    return LocalBuild(image, descriptor.digest, MANIFEST)


def release_local(
    versions: VersionsFile,
    version: str,
    build: str,
    name_of: Callable[[VersionEntry], ImageReference],
    *,
    registries: Registries,
    push: Push | None,
) -> tuple[dict[int, Action], dict[int, Outcome] | None]:
    """An action (and, when ``push`` is given, its outcome) per unpinned auto entry."""
    actions: dict[int, Action] = {}
    outcomes: dict[int, Outcome] = {}
    for entry in versions.entries:
        if entry.pin is not PinMode.AUTO or entry.version is not None:
            continue
        destination = name_of(entry).with_tag(version)
        target = Target(as_manifest_entry(entry, build, version), destination, destination)
        try:
            local = identify(entry.local_build(build))
            action = _plan(registries, target, local)
            if push is not None:
                outcomes[entry.index] = _apply(registries, action, local, push)
                action = outcomes[entry.index].action  # what was written, when it was
        except TagmgrError as error:
            action = Action(Kind.ERROR, target, message=str(error))
            outcomes[entry.index] = Outcome(action, Result.FAILED, str(error))
        actions[entry.index] = action
    return actions, (outcomes if push is not None else None)


def _plan(registries: Registries, target: Target, local: LocalBuild) -> Action:
    existing = _head(registries, target.destination)
    planned = Descriptor("", local.digest, 0)
    if existing is None:
        return Action(Kind.CREATE, target, planned, message=f"from {local.image}")
    if _holds(registries, target.destination, existing, local):
        return Action(Kind.PRESENT, target, existing, existing)
    return Action(
        Kind.CONFLICT,
        target,
        planned,
        existing,
        f"{target.destination} already points at {existing.digest}, which is not "
        f"{local.image} ({local.kept} {local.digest}); an existing tag is never moved",
    )


def _apply(registries: Registries, action: Action, local: LocalBuild, push: Push) -> Outcome:
    target = action.target
    if action.kind is not Kind.CREATE or target is None:
        result = Result.PRESENT if action.kind is Kind.PRESENT else Result.FAILED
        return Outcome(action, result, action.message if result is Result.FAILED else "")
    again = _plan(registries, target, local)  # just before the push: still absent?
    if again.kind is not Kind.CREATE:
        result = Result.PRESENT if again.kind is Kind.PRESENT else Result.FAILED
        return Outcome(again, result, again.message or "created meanwhile by someone else")
    push(local.image, target.destination)
    written = _head(registries, target.destination)
    if written is None or not _holds(registries, target.destination, written, local):
        found = written.digest if written else "nothing"
        return Outcome(
            action,
            Result.FAILED,
            f"verification failed: {target.destination} points at {found}, which does not "
            f"keep {local.kept} {local.digest}",
        )
    return Outcome(Action(Kind.CREATE, target, written, message=action.message), Result.CREATED)


def _head(registries: Registries, ref: ImageReference) -> Descriptor | None:
    return registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))


def _holds(
    registries: Registries, ref: ImageReference, existing: Descriptor, local: LocalBuild
) -> bool:
    """Whether the tag holds the local build: its very manifest, or a manifest of its config."""
    if local.kept == MANIFEST:
        return existing.digest == local.digest
    descriptor, content = registries.client(ref.registry).get_manifest(
        ref.repository, existing.digest
    )
    manifest = parse_manifest(content, descriptor.media_type, f"manifest {ref}")
    return isinstance(manifest, ImageManifest) and manifest.config.digest == local.digest


def daemon_host(environ: Mapping[str, str] | None = None) -> str | None:
    """``DOCKER_HOST``, which skopeo must be told: it reaches the local socket otherwise."""
    return (os.environ if environ is None else environ).get("DOCKER_HOST") or None
