"""replace_file: the file's mode and owner stay; as root, a user's file stays the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tagmgr.documents.atomic import replace_file


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("old\n")
    path.chmod(0o600)
    replace_file(path, b"new\n")
    assert (path.read_bytes(), path.stat().st_mode & 0o777) == (b"new\n", 0o600)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_as_root_a_users_file_stays_the_users(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("old\n")
    os.chown(path, 1000, 1000)
    replace_file(path, b"new\n")
    assert (path.stat().st_uid, path.stat().st_gid) == (1000, 1000)
