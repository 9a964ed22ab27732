"""YAML as PyYAML's node graph, for code that edits a file where its values stand (pin-refs needs
each node's marks), nested no deeper than any other reader here allows.

PyYAML's composer recurses once per level and fails with RecursionError near 300; here a document
nested deeper than ``TOOL_RULES.max_depth`` is a located problem instead. Aliases stay the node
they name, never copied.
"""

from __future__ import annotations

import yaml
from yaml.events import MappingStartEvent, SequenceStartEvent
from yaml.nodes import Node

from tagmgr.documents.located import located
from tagmgr.documents.yamldoc import TOOL_RULES
from tagmgr.errors import DocumentError, Problem


def compose_documents(file: str, text: str) -> list[Node | None]:
    """Every document's root node; yaml.YAMLError if ``text`` is not YAML, DocumentError if it
    nests too deep."""
    loader = _BoundedLoader(file, text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.get_node())
        return documents
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, file: str, text: str) -> None:
        super().__init__(text)
        self.file = file
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if not self.check_event(SequenceStartEvent, MappingStartEvent):
            return super().compose_node(parent, index)
        if self.depth >= TOOL_RULES.max_depth:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise DocumentError([Problem(located(self.file, mark), "", TOOL_RULES.too_deep())])
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
