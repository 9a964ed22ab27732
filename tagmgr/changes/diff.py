"""``tagmgr diff``: two image references in, an ``ImageDiff`` out (one verdict per platform)."""

from __future__ import annotations

from tagmgr.changes.compare import compare_stacks
from tagmgr.changes.config import compare_configs
from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.ignore import IgnoreRules
from tagmgr.changes.images import ImageSide, PlatformImage, read_image
from tagmgr.changes.streams import LayerFormatError
from tagmgr.changes.verdict import ImageDiff, PlatformDiff, Reason, Verdict, platform_verdict
from tagmgr.changes.walk import Layer, read_layer
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries


def diff_images(
    registries: Registries, a: ImageReference, b: ImageReference, ignore: IgnoreRules
) -> ImageDiff:
    side_a = read_image(registries.client(a.registry), a)
    side_b = read_image(registries.client(b.registry), b)
    platforms = []
    for key in sorted(side_a.platforms.keys() | side_b.platforms.keys()):
        one, other = side_a.platforms.get(key), side_b.platforms.get(key)
        if one is None or other is None:
            platforms.append(_added_or_removed(key, one, other))
        elif side_a.digest == side_b.digest:
            platforms.append(PlatformDiff(key, one.digest, other.digest, Verdict.IDENTICAL))
        else:
            platforms.append(_compare_platform(registries, (side_a, one), (side_b, other), ignore))
    return ImageDiff(str(a), str(b), side_a.digest, side_b.digest, tuple(platforms))


def _added_or_removed(
    key: str, one: PlatformImage | None, other: PlatformImage | None
) -> PlatformDiff:
    kind = "platform-added" if one is None else "platform-removed"
    reason = Reason(kind, key)
    digest_a, digest_b = one.digest if one else None, other.digest if other else None
    return PlatformDiff(key, digest_a, digest_b, Verdict.CHANGED, (reason,))


def _compare_platform(
    registries: Registries,
    a: tuple[ImageSide, PlatformImage],
    b: tuple[ImageSide, PlatformImage],
    ignore: IgnoreRules,
) -> PlatformDiff:
    (side_a, one), (side_b, other) = a, b
    if one.digest == other.digest:
        return PlatformDiff(one.platform, one.digest, other.digest, Verdict.IDENTICAL)
    # A blob both sides name is read from the first side's repository.
    sides = {layer.digest: (side_b, other) for layer in other.layers}
    sides.update({layer.digest: (side_a, one) for layer in one.layers})

    def read(layer: Layer) -> LayerChanges:
        side, image = sides[layer.digest]
        reference = side.reference
        client = registries.client(reference.registry)
        try:
            with client.open_blob(reference.repository, layer.digest) as chunks:
                return read_layer(layer, chunks)
        except LayerFormatError as error:
            raise LayerFormatError(f"{reference} ({image.platform}): {error}") from error

    found = compare_configs(one.config, other.config, ignore)
    found += compare_stacks(one.layers, other.layers, read, ignore)
    reasons = tuple(reason for reason in found if not reason.ignored_by)
    ignored = tuple(reason for reason in found if reason.ignored_by)
    verdict = platform_verdict(False, reasons)
    return PlatformDiff(one.platform, one.digest, other.digest, verdict, reasons, ignored)
