"""replace_file: the file's mode and owner stay; as root, a user's file stays the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tagmgr.documents import atomic
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


def test_an_owner_or_a_directory_sync_the_file_system_refuses_is_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root in a user namespace, or on NFS or vfat, cannot give a file away: it is still written."""

    def refuse(*_args: object) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "fchown", refuse)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(atomic, "_sync_directory", refuse)
    path = tmp_path / "values.yaml"
    path.write_text("old\n")
    replace_file(path, b"new\n")
    assert path.read_bytes() == b"new\n"
