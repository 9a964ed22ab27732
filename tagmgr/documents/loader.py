"""Every reviewed file comes in one way: text file -> located YAML or JSON -> JSON Schema -> data.

A ``DocumentKind`` says how one kind of file is read: its size limit, how strictly its YAML is
read (``YamlRules``), its schema and the words for what the schema refuses, and the error that
names its problems. Whatever the kind, a problem reads ``FILE:LINE:COL: field: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from tagmgr.documents.hidden import hidden_character
from tagmgr.documents.located import LocatedDocument
from tagmgr.documents.schema import Described, Words, describe_errors, schema_errors
from tagmgr.documents.textfile import FileProblem, read_text
from tagmgr.documents.yamldoc import TOOL_RULES, YamlRules, parse_yaml, parse_yaml_documents
from tagmgr.errors import DocumentError, Location, Problem, TagmgrError


class DocumentKind(NamedTuple):
    """How one kind of file is read and checked.

    ``too_large`` is what to do about a file over ``max_bytes``, when there is a remedy;
    ``regular_only=False`` also reads a pipe, as ``<(kubectl get pods -o json)`` is.
    """

    rules: YamlRules
    error: type[DocumentError]
    max_bytes: int
    schema: Path | None = None
    words: Words = Described()
    too_large: str = ""
    regular_only: bool = True


TOOL_FILES = DocumentKind(TOOL_RULES, DocumentError, 8 * 1024 * 1024, regular_only=False)
"""Kubernetes, compose and Helm files, kubectl's output: read as those tools read them."""


def read_document(path: str, kind: DocumentKind) -> LocatedDocument:
    """The file's one document with its problems; no data when it cannot be read at all."""
    text = _text(path, kind)
    if isinstance(text, Problem):
        return _unreadable(path, text)
    return parse_yaml(path, text, kind.rules)


def check_schema(doc: LocatedDocument, kind: DocumentKind) -> bool:
    """Whether ``doc`` is valid against the kind's schema. Each error becomes a problem of
    ``doc`` unless a problem already explains its place, and is reported there, so the checks
    that follow skip what the schema refused."""
    if kind.schema is None:
        return True
    errors = schema_errors(doc.data, kind.schema)
    doc.problems += describe_errors(doc, errors, kind.words)
    doc.reported.update(tuple(error.absolute_path) for error in errors)
    return not errors


def load_document(path: str, kind: DocumentKind, problems: list[Problem]) -> LocatedDocument | None:
    """The document if its shape is valid; every problem goes to ``problems`` (several files are
    read before one error names all of their problems)."""
    doc = read_document(path, kind)
    valid = check_schema(doc, kind)
    problems += doc.problems
    return doc if valid else None


def load_valid(path: str, kind: DocumentKind) -> LocatedDocument:
    """The document, or the kind's error naming every problem of the file."""
    doc = read_document(path, kind)
    check_schema(doc, kind)
    if doc.problems:
        raise kind.error(doc.problems)
    return doc


def load_documents(path: str, kind: DocumentKind = TOOL_FILES) -> list[LocatedDocument]:
    """Every document of the file (``kind.rules.several``), or the kind's error."""
    text = _text(path, kind)
    documents = (
        [_unreadable(path, text)]
        if isinstance(text, Problem)
        else parse_yaml_documents(path, text, kind.rules)
    )
    problems = [problem for doc in documents for problem in doc.problems]
    if problems:
        raise kind.error(problems)
    return documents


def load_lines(path: str, kind: DocumentKind) -> list[tuple[Location, str]]:
    """A file of one entry a line: each non-blank line that is no ``#`` comment, stripped, where
    it starts; a hidden character in one is a problem, as in any other reviewed file. A file
    that cannot be read at all has no line to point at: its ``TagmgrError`` names the file."""
    text = _text(path, kind)
    if isinstance(text, FileProblem):
        raise TagmgrError(f"{kind.rules.noun} {path}: {text.message}")
    if isinstance(text, Problem):
        raise kind.error([text])
    entries, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        where = Location(path, number, line.index(entry) + 1)
        hidden = hidden_character(entry)
        if hidden:
            problems.append(Problem(where, "", hidden))
        entries.append((where, entry))
    if problems:
        raise kind.error(problems)
    return entries


def _text(path: str, kind: DocumentKind) -> str | Problem:
    noun = kind.rules.noun
    return read_text(path, noun, kind.max_bytes, kind.too_large, regular_only=kind.regular_only)


def _unreadable(path: str, problem: Problem) -> LocatedDocument:
    doc = LocatedDocument(path)
    doc.reject(problem.location, (), problem.message)
    return doc
