"""The one finder: which image references a file contains, with their exact character spans,
and which places name an image it cannot read, with their locations. pin-refs edits the spans;
``expire --in-use`` and ``status --in-use`` protect the references.

A file is read by its name: Dockerfiles (``Dockerfile``, ``Containerfile``, ``*.dockerfile``,
...) as BuildKit reads them; ``.yaml``, ``.yml`` and ``.json`` as YAML (Kubernetes objects,
compose files, Helm values); a file with no suffix, or a pipe such as ``<(kubectl get deploy -o
yaml)``, as YAML when it parses as a YAML mapping or list; anything else as text. A YAML file
that does not parse (a Helm template, say) is read as text, and said so.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from yaml.nodes import CollectionNode

from tagmgr.documents.textfile import read_text
from tagmgr.errors import DocumentError, Location, Problem
from tagmgr.filerefs.dockerfile import find_in_dockerfile, is_dockerfile
from tagmgr.filerefs.plaintext import find_in_text
from tagmgr.filerefs.site import FileRefs, Lines, Unreadable, is_template
from tagmgr.filerefs.walk import File, Skipped
from tagmgr.filerefs.yaml import NotYaml, find_in_yaml, parse_collections

MAX_FILE_BYTES = 8 * 1024 * 1024
"""The largest file read; a rendered chart or ``kubectl get pods -A -o json`` fits."""
BINARY_PROBE = 8192
YAML_SUFFIXES = (".yaml", ".yml", ".json")


def read_file(path: str, *, regular_only: bool = True, follow: bool = True) -> str | Problem:
    """The file's text, a byte order mark kept (an edit writes every byte back), or why it is
    not text: a directory, unreadable, larger than ``MAX_FILE_BYTES``, not UTF-8, binary."""
    text = read_text(
        path, "text file", MAX_FILE_BYTES, regular_only=regular_only, keep_bom=True, follow=follow
    )
    if isinstance(text, str) and "\0" in text[:BINARY_PROBE]:
        return Problem(Location(path, 1, 1), "", "holds NUL bytes: a binary file, not text")
    return text


def scan(files: Iterable[File], skipped: list[Skipped]) -> list[tuple[File, FileRefs]]:
    """The references of each file, named as the walk reached it and read at its real path
    (never through a link that appeared since the walk); a file that cannot be read as text
    (binary, not UTF-8, too large, no longer a regular file) joins ``skipped``."""
    found = []
    for file in files:
        text = read_file(str(file.real), follow=False)
        if isinstance(text, Problem):
            skipped.append(Skipped(file.path, text.message))
        else:
            found.append((file, find_references(str(file.path), text)))
    return found


def find_references(file: str, text: str) -> FileRefs:
    """Every image reference ``text`` (the file ``file``) names, and every place it cannot
    read one."""
    path = PurePath(file)
    if is_dockerfile(path.name):
        found = find_in_dockerfile(file, text)
        return FileRefs(file, text, found.sites, found.unreadable)
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES or not suffix:
        # JSON allows tabs between tokens, YAML's scanner does not; they are never inside a
        # JSON string (it would be escaped), so spaces keep every offset where it was.
        parsed = (
            text.replace("\t", " ") if text.lstrip("\ufeff \n").startswith(("{", "[")) else text
        )
        try:
            documents = parse_collections(file, parsed)
        except DocumentError as error:
            unreadable = [Unreadable(p.location, p.field, "", p.message) for p in error.problems]
            return FileRefs(file, text, [], unreadable)
        except NotYaml as error:
            if suffix:
                return _as_text(file, text, error)
            documents = []
        if suffix or any(isinstance(doc, CollectionNode) for doc in documents):
            found = find_in_yaml(file, parsed, documents)
            return FileRefs(file, text, found.sites, found.unreadable)
    return FileRefs(file, text, find_in_text(file, text))


def _as_text(file: str, text: str, error: NotYaml) -> FileRefs:
    template = is_template(text)
    if template:
        reason = f"a template, not YAML ({error}): only the images written out in it are read;"
        reason += " render it (helm template) to read them all"
    else:
        reason = f"not valid YAML ({error}): only the images written out as text are read"
    where = Lines(file, text).location(error.offset)
    unreadable = Unreadable(where, "", "", reason, template=template)
    return FileRefs(file, text, find_in_text(file, text), [unreadable])
