"""YAML (and so JSON) files written by other tools, read with locations: policies, Kubernetes,
compose and Helm files.

Unlike a manifest, these are not tagmgr's own format: numbers stay numbers, several documents and
anchors are allowed (compose files use them). Aliases are read once where they stand; a file that
nests too deep or expands to too many nodes is refused rather than followed.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from tagmgr.documents.located import FieldPath, LocatedDocument, located
from tagmgr.documents.textfile import read_text
from tagmgr.errors import Location, ManifestError, Problem

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"


def load_documents(path: str, text: str | None = None) -> list[LocatedDocument]:
    """Every document of the file, values with where they were written; ManifestError if the
    file is not YAML or JSON."""
    if text is None:
        read = read_text(path, "YAML file", MAX_FILE_BYTES, regular_only=False)  # kubectl's, piped
        if isinstance(read, Problem):
            raise ManifestError([read])
        text = read
    if text.lstrip().startswith(("{", "[")):
        # JSON allows tabs between tokens, YAML's scanner does not; they are never inside a JSON
        # string (it would be escaped), so spaces keep every line and column where it was.
        text = text.replace("\t", " ")
    try:
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        raise ManifestError(
            [Problem(where, "", f"not valid YAML or JSON: {error.problem or error}")]
        ) from error
    documents = []
    for root in roots:
        doc = LocatedDocument(path)
        if root is not None:
            doc.data = _Converter(doc).value(root, (), 0)
        documents.append(doc)
    return documents


@dataclass
class _Converter:
    doc: LocatedDocument
    nodes: int = 0

    def value(self, node: yaml.Node, path: FieldPath, depth: int) -> object:
        self.nodes += 1
        location = located(self.doc.file, node.start_mark)
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise ManifestError(
                [
                    Problem(
                        location, "", f"nested deeper than {MAX_DEPTH} or over {MAX_NODES} values"
                    )
                ]
            )
        self.doc.values.setdefault(path, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, object] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                child = (*path, key)
                first = self.doc.keys.setdefault(child, key_node.start_mark)
                if key in result:
                    message = f"duplicate key {key!r}; the first one is at line {first.line + 1}"
                    self.doc.problem(located(self.doc.file, key_node.start_mark), child, message)
                    continue
                result[key] = self.value(value_node, child, depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return _scalar(node)


def _scalar(node: yaml.Node) -> object:
    text = str(node.value)
    if node.tag == _INT_TAG:
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            return text
    if node.tag == _BOOL_TAG:
        return text.lower() in {"true", "yes", "on", "y"}
    if node.tag == _NULL_TAG:
        return None
    return text
