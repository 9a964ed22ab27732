"""Image references in YAML: Kubernetes objects, compose files and Helm values.

``image: repo:tag`` anywhere (containers, compose services, values), and Helm's split form, a
mapping with ``repository`` and ``registry``, ``tag`` or ``digest`` beside it, in block or flow
style, quoted or not. Nodes come with PyYAML's marks; a value is edited only where the file's
characters are exactly the value (so escapes, folded and block scalars are left alone and said
so), and only the value's characters change: quotes, comments, anchors and layout stay.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tagmgr.documents.splice import Edit
from tagmgr.documents.yamlnodes import compose_documents
from tagmgr.documents.yamltraps import yaml_scalar
from tagmgr.errors import InvalidReferenceError
from tagmgr.filerefs.site import Site, inline_site, location_at
from tagmgr.oci.reference import ImageReference

IMAGE_KEY = "image"
SPLIT_KEYS = frozenset({"registry", "repository", "tag", "digest"})
_EMPTY = frozenset({"", "~", "null", "Null", "NULL"})


class NotYaml(Exception):
    """The file does not parse as YAML (a Helm template, say): read it as plain text instead."""


def find_in_yaml(file: str, text: str) -> list[Site]:
    try:
        documents = compose_documents(file, text)
    except yaml.YAMLError as error:
        raise NotYaml(str(error)) from None
    seen: set[int] = set()
    sites: list[Site] = []
    for root in documents:
        for key, value in _pairs(root, seen):
            site = _site(file, text, key, value)
            if site is not None:
                sites.append(site)
    return sites


def _pairs(node: Node | None, seen: set[int]) -> Iterator[tuple[str, Node]]:
    """Every (key, value) of every mapping, each node once (an alias is the node it names)."""
    if node is None or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                yield key.value, value
            yield from _pairs(value, seen)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _pairs(item, seen)


def _site(file: str, text: str, key: str, value: Node) -> Site | None:
    if isinstance(value, ScalarNode) and key == IMAGE_KEY:
        return _inline(file, text, value)
    if isinstance(value, MappingNode):
        return _split(file, text, value)
    return None


def _span(text: str, node: ScalarNode) -> tuple[int, int] | None:
    """Where the value's own characters are: inside quotes, after an anchor or tag."""
    end = node.end_mark.index - (1 if node.style in ("'", '"') else 0)
    start = end - len(node.value)
    if node.style not in (None, "'", '"') or start < node.start_mark.index:
        return None
    return (start, end) if text[start:end] == node.value else None


def _parse(written: str) -> ImageReference | None:
    try:
        return ImageReference.parse_familiar(written)
    except InvalidReferenceError:
        return None  # a template ({{ .Values.image }}), a variable, not a reference


def _inline(file: str, text: str, node: ScalarNode) -> Site | None:
    reference = _parse(node.value)
    if reference is None:
        return None
    span = _span(text, node)
    location = location_at(file, text, node.start_mark.index)
    if span is None:
        return Site(location, node.value, reference, lambda _t, _d: _UNEDITABLE)
    return inline_site(location_at(file, text, span[0]), span[0], node.value, reference)


_UNEDITABLE = "written with escapes or as a block scalar; edit it by hand"


def _split(file: str, text: str, node: MappingNode) -> Site | None:
    fields = {
        key.value: value
        for key, value in node.value
        if isinstance(key, ScalarNode) and key.value in SPLIT_KEYS and isinstance(value, ScalarNode)
    }
    repository = fields.get("repository")
    if repository is None or len(fields) < 2:
        return None
    registry = fields.get("registry")
    name = (
        f"{registry.value}/{repository.value}" if registry and registry.value else repository.value
    )
    tag, digest = fields.get("tag"), fields.get("digest")
    written = name
    if tag is not None and tag.value not in _EMPTY:
        written += f":{tag.value}"
    if digest is not None and digest.value not in _EMPTY:
        written += f"@{digest.value}"
    reference = _parse(written)
    if reference is None:
        return None

    def rewrite(new_tag: str, new_digest: str | None) -> tuple[Edit, ...] | str:
        if tag is None:
            return "has no tag key to write the tag into"
        if new_digest and digest is None:  # charts join repository:tag, so tag@digest pins
            edits = [_set(text, tag, f"{new_tag}@{new_digest}")]
        else:
            edits = [_set(text, tag, new_tag)]
            if digest is not None:
                edits.append(_set(text, digest, new_digest or ""))
        if any(edit is None for edit in edits):
            return _UNEDITABLE
        return tuple(edit for edit in edits if isinstance(edit, Edit))

    return Site(location_at(file, text, node.start_mark.index), written, reference, rewrite)


def _set(text: str, node: ScalarNode, value: str) -> Edit | bool | None:
    """The edit giving ``node`` the text ``value``; False when nothing changes, None when the
    value's characters cannot be told apart (escapes, block scalars)."""
    if node.style is None and node.value in _EMPTY:  # `digest:` or `digest: null`
        if not value:
            return False
        start, end = node.start_mark.index, node.end_mark.index
        spaced = "" if start > 0 and text[start - 1] == " " else " "
        return Edit(start, end, spaced + yaml_scalar(value))
    span = _span(text, node)
    if span is None:
        return None
    return Edit(span[0], span[1], yaml_scalar(value) if node.style is None else value)
