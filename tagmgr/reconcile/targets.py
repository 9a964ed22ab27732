"""From validated manifests to concrete targets: registry mapping and derived tags applied.

A ``Target`` says "make ``destination`` point at what ``source`` points at". Entries whose tag
cannot be derived become ``Unresolved`` with a reason, so one bad entry never hides the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from tagmgr.errors import GitVersionError
from tagmgr.manifest.model import DESCRIBE_PLACEHOLDER, ImageEntry, Manifest, Upstream
from tagmgr.oci.reference import ImageReference, explain_invalid_tag, is_valid_tag
from tagmgr.oci.registrymap import RegistryMap

UpstreamKey = tuple[Upstream, Path]
Describer = Callable[[Sequence[UpstreamKey]], Mapping[UpstreamKey, "str | GitVersionError"]]


class Target(NamedTuple):
    entry: ImageEntry
    source: ImageReference
    destination: ImageReference
    describe: str | None = None  # git describe output, when the tag was derived
    pinned: str | None = None  # src_digest: the digest the source tag must still point at
    repeats: tuple[ImageEntry, ...] = ()  # the same target listed again, folded into this one

    def mapped(self, registry_map: RegistryMap) -> Target:
        """This target with ``registry_map`` applied to its source and destination."""
        return self._replace(
            source=registry_map.apply(self.source),
            destination=registry_map.apply(self.destination),
        )


class Unresolved(NamedTuple):
    entry: ImageEntry
    message: str


Resolved = Target | Unresolved


def tag_template(entry: ImageEntry, manifest: Manifest) -> str | None:
    """The template an entry's tag is derived from, or None for a literal tag."""
    if entry.tag is None:
        return f"{manifest.tag_prefix or ''}{DESCRIBE_PLACEHOLDER}"
    return entry.tag if DESCRIBE_PLACEHOLDER in entry.tag else None


def upstream_key(upstream: Upstream, manifest: Manifest) -> UpstreamKey:
    """Relative upstream paths are relative to the manifest's directory."""
    return upstream, Path(manifest.path).resolve().parent


def resolve_targets(
    manifests: Sequence[Manifest], *, registry_map: RegistryMap, describe: Describer
) -> list[Resolved]:
    """Concrete targets for every entry, in manifest order, duplicates folded."""
    keys = [
        upstream_key(entry.upstream, manifest)
        for manifest in manifests
        for entry in manifest.entries
        if entry.upstream is not None and tag_template(entry, manifest) is not None
    ]
    described = describe(keys) if keys else {}
    resolved: list[Resolved] = []
    for manifest in manifests:
        for entry in manifest.entries:
            resolved.append(_resolve_entry(entry, manifest, registry_map, described))
    return _fold_duplicates(resolved)


def _resolve_entry(
    entry: ImageEntry,
    manifest: Manifest,
    registry_map: RegistryMap,
    described: Mapping[UpstreamKey, str | GitVersionError],
) -> Resolved:
    name = registry_map.apply(ImageReference.parse(entry.name))
    template = tag_template(entry, manifest)
    describe = None
    tag = entry.tag or ""
    if template is not None and entry.upstream is not None:
        outcome = described[upstream_key(entry.upstream, manifest)]
        if isinstance(outcome, GitVersionError):
            return Unresolved(entry, str(outcome))
        describe = outcome
        tag = template.replace(DESCRIBE_PLACEHOLDER, describe)
        if not is_valid_tag(tag):
            return Unresolved(entry, f"derived tag is not valid: {explain_invalid_tag(tag)}")
    if entry.src_build_tag is None:
        return Target(entry, name.with_digest(str(entry.src_digest)), name.with_tag(tag), describe)
    source = name.with_tag(entry.src_build_tag)
    return Target(entry, source, name.with_tag(tag), describe, pinned=entry.src_digest)


def _fold_duplicates(resolved: list[Resolved]) -> list[Resolved]:
    """Drop repeats of one target; a second source for one destination is an error. A repeat
    that pins the source (``src_digest``) where the first did not takes its place: the pin
    a review put on one entry holds for the tag whichever file lists it first."""
    seen: dict[ImageReference, int] = {}
    folded: list[Resolved] = []
    for item in resolved:
        if not isinstance(item, Target):
            folded.append(item)
            continue
        at = seen.setdefault(item.destination, len(folded))
        first = folded[at] if at < len(folded) else None
        if not isinstance(first, Target):
            folded.append(item)
        elif first.source != item.source:
            where = first.entry.location()
            message = f"{item.destination} is already given source {first.source.tag} at {where}"
            folded.append(Unresolved(item.entry, message))
        elif item.pinned and first.pinned and item.pinned != first.pinned:
            where = first.entry.location()
            message = f"{item.destination} is already pinned to {first.pinned} at {where}"
            folded.append(Unresolved(item.entry, message))
        elif item.pinned and not first.pinned:
            folded[at] = item._replace(repeats=(*first.repeats, first.entry))
        else:
            folded[at] = first._replace(repeats=(*first.repeats, item.entry))
    return folded
