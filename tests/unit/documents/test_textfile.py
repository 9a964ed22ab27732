"""Every file tagmgr reads as reviewed text is refused the same way, named for what it is: a
manifest, a lock file, an ignore list or another tool's YAML."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.changes.ignore import load_ignore_file
from tagmgr.documents.loader import load_documents
from tagmgr.documents.textfile import read_text
from tagmgr.errors import TagmgrError
from tagmgr.lock import read_lock

READERS: dict[str, Callable[[Path], object]] = {
    "lock file": read_lock,
    "ignore file": lambda path: load_ignore_file(str(path)),
    "YAML file": lambda path: load_documents(str(path)),
}


def refusal(noun: str, path: Path) -> str:
    with pytest.raises(TagmgrError) as caught:
        READERS[noun](path)
    return str(caught.value)


@pytest.mark.parametrize("noun", sorted(READERS))
def test_a_bad_byte_is_located_and_the_file_named(noun: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"{}\n  \xc3\xa9\xff\n")
    assert refusal(noun, path) == f"{path}:2:4: byte 0xff is not UTF-8; a {noun} is UTF-8 text"


@pytest.mark.parametrize("noun", sorted(READERS))
def test_a_directory_is_refused_for_the_file_it_should_be(noun: str, tmp_path: Path) -> None:
    """A file of lines names a file it cannot read without a position (no line to point at)."""
    article = "an" if noun.startswith("i") else "a"
    place = f"{noun} {tmp_path}:" if noun == "ignore file" else f"{tmp_path}:1:1:"
    assert refusal(noun, tmp_path) == f"{place} is a directory; give {article} {noun}"


def test_only_a_manifest_is_told_to_split(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_text("x" * 11, encoding="utf-8")
    location = f"{path}:1:1:"
    lock = read_text(str(path), "lock file", 10)
    assert str(lock) == f"{location} the file is larger than 10 bytes"
    manifest = read_text(str(path), "manifest", 10, "split the manifest")
    assert str(manifest) == f"{location} the file is larger than 10 bytes; split the manifest"


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "bom"
    path.write_bytes(b"\xef\xbb\xbfimages: []\n")
    assert read_text(str(path), "manifest", 100) == "images: []\n"
    # A file edited in place keeps it: the mark is the text's first character.
    assert read_text(str(path), "manifest", 100, keep_bom=True) == "\ufeffimages: []\n"


def test_a_pipe_is_read_where_a_tool_s_output_is_expected(tmp_path: Path) -> None:
    """``--in-use <(kubectl get pods -A -o json)``: a pipe, read as a file is; a manifest stays
    a regular file, so a stray pipe with no writer cannot hang a commit hook."""
    fifo = tmp_path / "pods"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=('{"items": []}\n',))
    writer.start()
    documents = load_documents(str(fifo))
    writer.join(timeout=10)
    assert [doc.data for doc in documents] == [{"items": []}]
    refused = f"{fifo}:1:1: is a FIFO (named pipe), not a regular file"
    assert str(read_text(str(fifo), "manifest", 100)) == refused
