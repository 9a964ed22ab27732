"""``tagmgr diff``: two images in, an ``ImageDiff`` out (one verdict per platform).

Either image may be in a registry or on this machine (``oci.transport``): both are read down to
the same values (``ImageSide``) and compared alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from tagmgr.changes.compare import compare_stacks
from tagmgr.changes.config import compare_configs
from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.ignore import IgnoreRules
from tagmgr.changes.images import ImageSide, PlatformImage, RegistryStore, read_image
from tagmgr.changes.local import opened_local
from tagmgr.changes.streams import LayerFormatError
from tagmgr.changes.verdict import DiffVerdict, ImageDiff, PlatformDiff, Reason, platform_verdict
from tagmgr.changes.walk import Layer
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.transport import DOCKER_DAEMON, ImageLocation
from tagmgr.registry import Registries


@contextmanager
def opened_image(location: ImageLocation, registries: Registries) -> Iterator[ImageSide]:
    """The image, its layers readable within the block (an archive stays open until then)."""
    if isinstance(location, ImageReference):
        store = RegistryStore(registries.client(location.registry), location)
        yield read_image(store, str(location))
    elif location.transport == DOCKER_DAEMON:
        # Only a daemon image needs the docker SDK, which takes a while to import.
        from tagmgr.changes.daemon import read_daemon_image  # noqa: PLC0415

        yield read_daemon_image(location)
    else:
        with opened_local(location) as side:
            yield side


def diff_images(
    registries: Registries, a: ImageLocation, b: ImageLocation, ignore: IgnoreRules
) -> ImageDiff:
    with ExitStack() as stack:
        side_a = stack.enter_context(opened_image(a, registries))
        side_b = stack.enter_context(opened_image(b, registries))
        return diff_sides(side_a, side_b, ignore)


def diff_sides(side_a: ImageSide, side_b: ImageSide, ignore: IgnoreRules) -> ImageDiff:
    """One verdict per platform either side has; layers are read only where digests differ."""
    platforms = []
    for key in sorted(side_a.platforms.keys() | side_b.platforms.keys()):
        one, other = side_a.platforms.get(key), side_b.platforms.get(key)
        if one is None or other is None:
            platforms.append(_added_or_removed(key, one, other))
        elif side_a.digest == side_b.digest:
            platforms.append(PlatformDiff(key, one.digest, other.digest, DiffVerdict.IDENTICAL))
        else:
            platforms.append(_compare_platform((side_a, one), (side_b, other), ignore))
    return ImageDiff(
        side_a.location, side_b.location, side_a.digest, side_b.digest, tuple(platforms)
    )


def _added_or_removed(
    key: str, one: PlatformImage | None, other: PlatformImage | None
) -> PlatformDiff:
    kind = "platform-added" if one is None else "platform-removed"
    reason = Reason(kind, key)
    digest_a, digest_b = one.digest if one else None, other.digest if other else None
    return PlatformDiff(key, digest_a, digest_b, DiffVerdict.CHANGED, (reason,))


def _compare_platform(
    a: tuple[ImageSide, PlatformImage],
    b: tuple[ImageSide, PlatformImage],
    ignore: IgnoreRules,
) -> PlatformDiff:
    (side_a, one), (side_b, other) = a, b
    if one.digest == other.digest:
        return PlatformDiff(one.platform, one.digest, other.digest, DiffVerdict.IDENTICAL)
    # A blob both sides name is read from the first side.
    sides = {layer.digest: (side_b, other) for layer in other.layers}
    sides.update({layer.digest: (side_a, one) for layer in one.layers})

    def read(layer: Layer) -> LayerChanges:
        side, image = sides[layer.digest]
        try:
            return side.layers.changes(layer)
        except LayerFormatError as error:
            raise LayerFormatError(f"{side.location} ({image.platform}): {error}") from error

    found = compare_configs(one.config, other.config, ignore)
    found += compare_stacks(one.layers, other.layers, read, ignore)
    reasons = tuple(reason for reason in found if not reason.ignored_by)
    ignored = tuple(reason for reason in found if reason.ignored_by)
    verdict = platform_verdict(False, reasons)
    return PlatformDiff(one.platform, one.digest, other.digest, verdict, reasons, ignored)
