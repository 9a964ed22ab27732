"""Image references in YAML: Kubernetes objects, compose files and Helm values.

- ``image: repo:tag`` anywhere: containers, init containers, CronJob templates, compose services,
  values. A compose service with ``build:`` and an ``image:`` of one bare name
  (``app-local-debug``) names the image it builds, not one in a registry, and is passed over.
- ``image: {reference: repo:tag}``: a Kubernetes image volume.
- Helm's split form: a mapping with ``repository`` (or ``image`` beside ``registry``, as
  ingress-nginx writes it) and ``registry``, ``tag``, ``version`` or ``digest``, block or flow,
  quoted or not; ``version`` stands for the tag where there is no ``tag``. A mapping under an
  ``image:`` key needs only its repository.

Nodes come with PyYAML's marks; a value is edited only where the file's characters are exactly
the value (so escapes, folded and block scalars are left alone and said so), and only the value's
characters change: quotes, comments, anchors and layout stay. A value under ``image:`` that is
not a reference (a template, a variable, a number) is listed as unreadable, with its location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from tagmgr.documents.located import FieldPath, render_path
from tagmgr.documents.splice import Edit
from tagmgr.documents.textfile import BOM
from tagmgr.documents.yamldoc import TOOL_RULES
from tagmgr.documents.yamlnodes import compose_documents
from tagmgr.documents.yamltraps import plain_scalar_trap, yaml_scalar
from tagmgr.errors import InvalidReferenceError
from tagmgr.filerefs.site import (
    Found,
    Lines,
    Rewrite,
    Site,
    Unreadable,
    inline_site,
    is_template,
    unchangeable,
)
from tagmgr.oci.reference import ImageReference

IMAGE_KEY = "image"
SPLIT_KEYS = frozenset({"registry", "repository", "tag", "version", "digest", IMAGE_KEY})
_EMPTY = frozenset({"", "~", "null", "Null", "NULL"})
_STR_TAG = "tag:yaml.org,2002:str"
_KINDS = {"int": "a number", "float": "a number", "bool": "a boolean", "timestamp": "a date"}
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@:+-]*")
# libyaml's loader, where PyYAML has it, reads a large file (a package-lock.json) six times as
# fast as the pure-Python one; both count marks in characters.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_UNEDITABLE = "written with escapes or as a block scalar; edit it by hand"
_SHARED = (
    "its value is a YAML anchor that something other than an image reference reads too (an alias"
    " elsewhere); edit it by hand"
)


class NotYaml(Exception):
    """The file does not parse as YAML (a Helm template, say): read it as plain text instead."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def parse_collections(file: str, text: str) -> list[Node]:
    """The documents of ``text``; NotYaml when it does not parse, DocumentError when it nests
    deeper than ``TOOL_RULES.max_depth``.

    libyaml first, for speed; where it refuses (it also refuses keys past 1,024 characters,
    which deep block nesting makes, and counts no byte order mark in its marks), PyYAML's own
    parser, bounded in depth, decides.
    """
    if not text.startswith(BOM):
        try:
            return [root for root in yaml.compose_all(text, Loader=_LOADER) if root]
        except (yaml.YAMLError, RecursionError):  # RecursionError: no libyaml, PyYAML's parser
            pass
    try:
        return [root for root in compose_documents(file, text) if root]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise NotYaml(str(error.problem or error), mark.index if mark else 0) from None
    except yaml.YAMLError as error:
        raise NotYaml(str(error), 0) from None


def find_in_yaml(file: str, text: str, documents: list[Node]) -> Found:
    """Every reference in the documents, in the order they are written; each collection once (an
    alias of one is the collection it names, found where it was first written), and a scalar at
    each place that reads it as an image (one an alias reads too cannot be edited for one of
    them). Walked with a stack, not recursion; a collection nested deeper than any other YAML
    reader here allows (``TOOL_RULES.max_depth``) is listed as unreadable, and nothing below it
    is read."""
    finder = _Finder(Lines(file, text), text, _readers(documents))
    stack: list[_Work] = [(root, (), False) for root in reversed(documents)]
    seen: set[int] = set()
    while stack:
        node, path, names_image = stack.pop()
        if id(node) in seen and not (names_image and isinstance(node, ScalarNode)):
            continue
        seen.add(id(node))
        if len(path) >= TOOL_RULES.max_depth and isinstance(node, CollectionNode):
            finder.too_deep(node, path)
        elif names_image and isinstance(node, ScalarNode):
            finder.inline(node, path)
        else:
            stack += reversed(finder.children(node, path))
    return finder.found


_Work = tuple[Node, FieldPath, bool]  # a node, its path, and whether it is a scalar naming an image


def _readers(documents: list[Node]) -> dict[int, int]:
    """How many places read each node, by ``id``: an anchor's and each of its aliases'. A new tag
    written into a node changes every place that reads it. A compose extension field (``x-...``)
    holds an anchor for others to read, and is no reader itself."""
    places: dict[int, int] = {}
    walked: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, True) for root in documents]
    while stack:
        node, reads = stack.pop()
        if reads:
            places[id(node)] = places.get(id(node), 0) + 1
        if id(node) in walked:
            continue
        walked.add(id(node))
        if isinstance(node, SequenceNode):
            stack += [(item, True) for item in node.value]
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                extension = isinstance(key, ScalarNode) and key.value.startswith("x-")
                stack += [(key, True), (value, not extension)]
    return places


@dataclass
class _Finder:
    lines: Lines
    text: str
    readers: dict[int, int]
    found: Found = field(default_factory=Found)
    image_reads: dict[int, int] = field(default_factory=dict)
    """How many of each node's readers are the references found, by ``id``."""

    def children(self, node: Node, path: FieldPath) -> list[_Work]:
        if isinstance(node, SequenceNode):
            return [(item, (*path, index), False) for index, item in enumerate(node.value)]
        if not isinstance(node, MappingNode):
            return []
        under_image = bool(path) and path[-1] == IMAGE_KEY
        if self.split(node, _scalars(node), path, under_image=under_image):
            return []
        keys = {key.value for key, _ in node.value if isinstance(key, ScalarNode)}
        return [
            (
                value,
                (*path, key.value),
                isinstance(value, ScalarNode)
                and _names_an_image(key.value, value, keys, under_image),
            )
            for key, value in node.value
            if isinstance(key, ScalarNode)
        ]

    def inline(self, node: ScalarNode, path: FieldPath) -> None:
        context = render_path(path)
        if node.value == "" or (_is_plain(node) and node.value in _EMPTY):
            return  # `image:`, `image: ""`: nothing named
        reason = _not_a_reference(node)
        if reason is not None:
            self.unreadable(node, context, node.value, reason)
            return
        reference = ImageReference.parse_familiar(node.value)
        span = _span(self.text, node)
        if span is None:
            location = self.lines.location(node.start_mark.index)
            site = Site(location, node.value, reference, unchangeable(_UNEDITABLE), context)
        else:
            location = self.lines.location(span[0])
            site = inline_site(location, span[0], node.value, reference, context)
            site = replace(site, rewrite=self.unless_read_otherwise([node], site.rewrite))
        self.found.sites.append(site)

    def split(
        self,
        node: MappingNode,
        scalars: dict[str, ScalarNode],
        path: FieldPath,
        *,
        under_image: bool,
    ) -> bool:
        """Read ``node`` as Helm's split form; False when it is not one."""
        repository = scalars.get("repository")
        if repository is None and "registry" in scalars:
            repository = scalars.get(IMAGE_KEY)
        others = scalars.keys() - {"repository", IMAGE_KEY}
        if repository is None or not (others or under_image):
            return False
        tag_key = "tag" if "tag" in scalars or "version" not in scalars else "version"
        tag, digest = scalars.get(tag_key), scalars.get("digest")
        written = _joined(scalars.get("registry"), repository, tag, digest)
        context = render_path(path)
        try:
            reference = ImageReference.parse_familiar(written)
        except InvalidReferenceError as error:
            if under_image:  # anywhere else, a repository and a version are a chart's, say
                self.unreadable(node, context, written, _explained(written, error))
            return under_image
        location = self.lines.location(node.start_mark.index)
        parts = [part for part in (tag, digest) if part is not None]
        rewrite = self.unless_read_otherwise(parts, _split_rewrite(self.text, tag, digest, tag_key))
        self.found.sites.append(Site(location, written, reference, rewrite, context))
        return True

    def unless_read_otherwise(self, nodes: list[ScalarNode], rewrite: Rewrite) -> Rewrite:
        """``rewrite``, refused when a node it writes is read by something other than the
        references found (asked once all are found). References alone may share an anchor: the
        same new value is written once, and different ones are refused (``pinrefs.edit``)."""
        for node in nodes:
            self.image_reads[id(node)] = self.image_reads.get(id(node), 0) + 1

        def checked(tag: str, digest: str | None) -> tuple[Edit, ...] | str:
            if any(self.readers.get(id(n), 0) > self.image_reads[id(n)] for n in nodes):
                return _SHARED
            return rewrite(tag, digest)

        return checked

    def too_deep(self, node: Node, path: FieldPath) -> None:
        self.unreadable(node, render_path(path), "", TOOL_RULES.too_deep())

    def unreadable(self, node: Node, context: str, written: str, reason: str) -> None:
        location = self.lines.location(node.start_mark.index)
        self.found.unreadable.append(
            Unreadable(location, context, written, reason, template=is_template(written))
        )


def _is_plain(node: ScalarNode) -> bool:
    """Unquoted: PyYAML's parser says style None for plain, libyaml's says ''."""
    return not node.style


def _scalars(node: MappingNode) -> dict[str, ScalarNode]:
    return {
        key.value: value
        for key, value in node.value
        if isinstance(key, ScalarNode) and key.value in SPLIT_KEYS and isinstance(value, ScalarNode)
    }


def _names_an_image(key: str, value: ScalarNode, keys: set[str], under_image: bool) -> bool:
    """``image:`` names a registry image; ``reference:`` does in an image volume. With
    ``build:`` beside it (compose), a bare name is the image the build makes."""
    if key == "reference":
        return under_image
    return key == IMAGE_KEY and ("build" not in keys or "/" in value.value)


def _not_a_reference(node: ScalarNode) -> str | None:
    if _is_plain(node) and node.tag != _STR_TAG:
        kind = node.tag.rpartition(":")[2]
        return f"not an image reference: YAML reads {node.value} as {_KINDS.get(kind, kind)}"
    if is_template(node.value):
        return "a template, not an image reference: render it first (helm template)"
    if "$" in node.value:
        return "its value comes from a variable; tagmgr cannot tell which image it names"
    try:
        ImageReference.parse_familiar(node.value)
    except InvalidReferenceError as error:
        return _explained(node.value, error)
    return None


def _explained(written: str, error: InvalidReferenceError) -> str:
    if is_template(written):
        return "a template, not an image reference: render it first (helm template)"
    return f"not an image reference ({error})"


def _joined(
    registry: ScalarNode | None,
    repository: ScalarNode,
    tag: ScalarNode | None,
    digest: ScalarNode | None,
) -> str:
    written: str = repository.value
    if registry is not None and registry.value not in _EMPTY:
        written = f"{registry.value}/{written}"
    if tag is not None and tag.value not in _EMPTY:
        written += f":{tag.value}"
    if digest is not None and digest.value not in _EMPTY:
        written += f"@{digest.value}"
    return written


def _span(text: str, node: ScalarNode) -> tuple[int, int] | None:
    """Where the value's own characters are: inside quotes, after an anchor or tag."""
    quoted = node.style in ("'", '"')
    end = node.end_mark.index - (1 if quoted else 0)
    start = end - len(node.value)
    if not (quoted or _is_plain(node)) or start < node.start_mark.index:
        return None
    return (start, end) if text[start:end] == node.value else None


def _split_rewrite(
    text: str, tag: ScalarNode | None, digest: ScalarNode | None, tag_key: str
) -> Rewrite:
    def rewrite(new_tag: str, new_digest: str | None) -> tuple[Edit, ...] | str:
        if tag is None:
            return f"has no {tag_key} key to write the tag into"
        if new_digest and digest is None:  # charts join repository:tag, so tag@digest pins
            edits = [_set(text, tag, f"{new_tag}@{new_digest}")]
        else:
            edits = [_set(text, tag, new_tag)]
            if digest is not None:
                edits.append(_set(text, digest, new_digest or ""))
        if any(edit is None for edit in edits):
            return _UNEDITABLE
        return tuple(edit for edit in edits if isinstance(edit, Edit))

    return rewrite


def _set(text: str, node: ScalarNode, value: str) -> Edit | bool | None:
    """The edit giving ``node`` the text ``value``; False when nothing changes, None when the
    value's characters cannot be told apart (escapes, block scalars)."""
    if _is_plain(node) and node.value in _EMPTY:  # `digest:` or `digest: null`
        if not value:
            return False
        start, end = node.start_mark.index, node.end_mark.index
        spaced = "" if start > 0 and text[start - 1] == " " else " "
        return Edit(start, end, spaced + _plain_or_quoted(value))
    span = _span(text, node)
    if span is None:
        return None
    return Edit(span[0], span[1], _plain_or_quoted(value) if _is_plain(node) else value)


def _plain_or_quoted(value: str) -> str:
    """A plain value stays plain when YAML (1.1 and 1.2) reads the new text back as that text,
    in a block or a flow mapping: ``v1@sha256:...`` does; ``2.0`` would be a number, so it is
    quoted."""
    if _PLAIN_SAFE.fullmatch(value) and plain_scalar_trap(value, is_key=False) is None:
        return value
    return yaml_scalar(value)
