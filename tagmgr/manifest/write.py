"""``describe --write``: put concrete tags into a manifest file, changing nothing else.

The file is edited as text. PyYAML's node marks give each value's exact character span; a
template value is replaced within its span, and an entry that relies on ``tag_prefix`` gets a
``tag:`` right after its ``upstream`` value (a new line in block style, ``, tag: ...`` in a flow
mapping). Comments, key order, quoting, blank lines, line endings and any byte-order mark are
untouched because those bytes are never rewritten. The file is replaced atomically, mode kept;
a manifest named through a symlink has its target replaced, and the link stays a link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tagmgr.documents.atomic import replace_file
from tagmgr.documents.splice import Edit, splice
from tagmgr.documents.textfile import read_bytes
from tagmgr.documents.yamltraps import yaml_scalar
from tagmgr.errors import Location, ManifestError, Problem, TagmgrError
from tagmgr.manifest.model import DESCRIBE_PLACEHOLDER, ImageEntry
from tagmgr.oci.reference import ImageReference


def write_tags(
    path: str | Path, tags: Mapping[int, str], entries: Mapping[int, ImageEntry]
) -> list[int]:
    """Give each entry ``images[i]`` in ``tags`` its concrete tag; return the indices changed.

    A ``tag`` holding ``{describe}`` is replaced, a missing ``tag`` is added after ``upstream``,
    and a literal ``tag`` is left alone. ``entries``: each entry as it was loaded. The file is
    read again to be written, and edits go by position: an entry that is not as it was loaded
    (the file reordered, or edited, meanwhile) would have its tag land on another, so nothing is
    written then. A manifest may list one image several times, so every field is compared.
    """
    path = Path(path)
    text = _read(path)
    images = _images(yaml.compose(text), path)
    _refuse_moved(path, images, tags, lambda i, node: _written_fields(node) == _fields(entries[i]))
    edits: dict[int, Edit] = {}
    for index, tag in sorted(tags.items()):
        edit = _edit_entry(text, images.value[index], tag, path)
        if edit:
            edits[index] = edit
    if edits:
        replace_file(path, splice(text, edits.values()).encode("utf-8"))
    return list(edits)


def write_values(
    path: str | Path,
    field: str,
    values: Mapping[int, str | None],
    names: Mapping[int, ImageReference],
    *,
    after: str,
) -> list[int]:
    """Set ``images[i].<field>`` for each ``i`` in ``values`` (None writes null) in place.

    A value is replaced within its span; a missing key is added right after the ``after`` key.
    Return the indices whose text changed. ``names``: each entry's image as it was loaded; a
    versions file names each image once, so an entry that names another is one the file moved
    meanwhile, and nothing is written (see ``write_tags``).
    """
    path = Path(path)
    text = _read(path)
    images = _images(yaml.compose(text), path)
    _refuse_moved(path, images, values, lambda i, node: _named(node) == names[i])
    edits: dict[int, Edit] = {}
    for index, value in sorted(values.items()):
        entry = images.value[index]
        if not isinstance(entry, MappingNode):
            raise _problem(path, entry, "", "an entry must be a mapping")
        rendered = "null" if value is None else yaml_scalar(value)
        fields = {k.value: (k, v) for k, v in entry.value if isinstance(k, ScalarNode)}
        if field in fields:
            edit = _replace_value(text, *fields[field], rendered)
        else:
            edit = _insert_field(text, entry, fields[after], f"{field}: {rendered}")
        if text[edit.start : edit.end] != edit.text:
            edits[index] = edit
    if edits:
        replace_file(path, splice(text, edits.values()).encode("utf-8"))
    return list(edits)


def _read(path: Path) -> str:
    """The file as it is now, loaded a moment ago; refused, never waited on, if it has become
    a FIFO or anything else that is not a regular file since."""
    try:
        return read_bytes(str(path), -1).decode("utf-8")
    except (OSError, UnicodeError) as error:
        raise TagmgrError(f"{path}: cannot read it again to write it: {error}") from error


_CHANGED = "not the entry it was when the file was read; nothing was written (run again)"


def _refuse_moved(
    path: Path,
    images: SequenceNode,
    edited: Mapping[int, object],
    as_loaded: Callable[[int, Node], bool],
) -> None:
    """Each entry about to be edited is as it was loaded, or nothing is written."""
    for index in edited:
        node = images.value[index] if index < len(images.value) else images
        if not as_loaded(index, node):
            raise _problem(path, node, "", _CHANGED)


def _named(node: Node) -> ImageReference | None:
    """The image an entry names now, or None when it names none."""
    try:
        return ImageReference.parse(_written_fields(node).get("name") or "")
    except TagmgrError:
        return None


def _written_fields(node: Node) -> dict[str, str]:
    """An entry's text fields as the file holds them now, ``upstream``'s as ``upstream.KEY``."""
    fields: dict[str, str] = {}
    if not isinstance(node, MappingNode):
        return fields
    for key, value in node.value:
        if isinstance(key, ScalarNode) and isinstance(value, ScalarNode):
            fields[key.value] = value.value
        elif isinstance(key, ScalarNode) and isinstance(value, MappingNode):
            fields |= {f"{key.value}.{k}": v for k, v in _written_fields(value).items()}
    return fields


def _fields(entry: ImageEntry) -> dict[str, str]:
    """The same fields of ``entry`` as it was loaded."""
    fields = {
        "name": entry.name,
        "src_build_tag": entry.src_build_tag,
        "src_digest": entry.src_digest,
        "src_ref": entry.src_ref,
        "tag": entry.tag,
    }
    if entry.upstream is not None:
        upstream = entry.upstream
        fields |= {"upstream.repo": upstream.repo, "upstream.commit": upstream.commit}
        fields["upstream.match"] = upstream.match
    return {key: value for key, value in fields.items() if value is not None}


def _replace_value(text: str, key: Node, value: Node, rendered: str) -> Edit:
    if isinstance(value, ScalarNode) and value.value == "" and value.style is None:
        colon = text.index(":", key.end_mark.index) + 1  # ``key:`` with nothing after it
        return Edit(colon, colon, f" {rendered}")
    return Edit(value.start_mark.index, value.end_mark.index, rendered)


def _images(root: Node | None, path: Path) -> SequenceNode:
    if isinstance(root, MappingNode):
        for key, value in root.value:
            if key.value == "images" and isinstance(value, SequenceNode):
                return value
    raise ManifestError([Problem(Location(str(path), 1, 1), "images", "no list of images")])


def _edit_entry(text: str, entry: Node, tag: str, path: Path) -> Edit | None:
    if not isinstance(entry, MappingNode):
        raise _problem(path, entry, "", "an entry must be a mapping")
    fields = {key.value: (key, value) for key, value in entry.value if isinstance(key, ScalarNode)}
    if "tag" in fields:
        return _replace_template(text, *fields["tag"], tag, path)
    if "upstream" not in fields:
        raise _problem(path, entry, "tag", "no tag and no upstream to derive one from")
    return _insert_field(text, entry, fields["upstream"], f"tag: {yaml_scalar(tag)}")


def _insert_field(text: str, entry: MappingNode, after: tuple[Node, Node], field: str) -> Edit:
    """``field`` (``key: value``) as a new key right after the ``after`` key's value."""
    key, value = after
    if entry.flow_style:
        return Edit(value.end_mark.index, value.end_mark.index, f", {field}")
    return _insert_line(text, _content_end(value), f"{' ' * key.start_mark.column}{field}")


def _replace_template(text: str, key: Node, value: Node, tag: str, path: Path) -> Edit | None:
    if not (isinstance(value, ScalarNode) and DESCRIBE_PLACEHOLDER in value.value):
        return None  # a literal tag stays as written
    if text[value.start_mark.index] == "&":  # an anchor, or an alias of one elsewhere
        raise _problem(path, key, "tag", "write the tag template out instead of an anchor")
    return Edit(value.start_mark.index, value.end_mark.index, yaml_scalar(tag))


def _insert_line(text: str, after: int, line: str) -> Edit:
    """Insert ``line`` after the line holding position ``after``, in the file's line endings."""
    newline = "\r\n" if "\r\n" in text else "\n"
    start = _next_line(text, after)
    if start == len(text) and not text.endswith("\n"):
        return Edit(start, start, newline + line)
    return Edit(start, start, line + newline)


def _content_end(node: Node) -> int:
    """Where a value's own text ends: a block collection's mark runs on to the next key."""
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _content_end(last[1] if isinstance(node, MappingNode) else last)
    return int(node.end_mark.index)


def _next_line(text: str, position: int) -> int:
    """Where the line after ``position`` starts (or the end of the text)."""
    if position > 0 and text[position - 1] == "\n":  # a block scalar ends with its line break
        return position
    end = text.find("\n", position)
    return len(text) if end < 0 else end + 1


def _problem(path: Path, node: Node, field: str, message: str) -> ManifestError:
    mark = node.start_mark
    return ManifestError(
        [Problem(Location(str(path), mark.line + 1, mark.column + 1), field, message)]
    )
