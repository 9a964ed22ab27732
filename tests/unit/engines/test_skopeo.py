"""What skopeo is told and what tagmgr makes of its answer: the flags that reach a registry as
tagmgr's client reached it, the in-memory auth file, and the one line of its fatal error."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tagmgr.engines.skopeo import connection_flags, memory_authfile, skopeo_message
from tagmgr.registry import Connection, Credentials


def no_credentials(repository: str) -> Credentials | None:
    return None


def test_a_plain_http_registry_is_reached_without_tls_verification_and_no_cert_dir() -> None:
    connection = Connection("127.0.0.1:5000", False, None, no_credentials)
    assert connection_flags("src", connection, "/proc/self/fd/7") == [
        "--src-tls-verify=false",
        "--src-authfile=/proc/self/fd/7",
    ]


def test_a_private_ca_is_given_as_the_cert_dir_tagmgr_used() -> None:
    connection = Connection("registry.example", True, Path("/etc/ca.d"), no_credentials)
    assert connection_flags("dest", connection, "/proc/self/fd/9") == [
        "--dest-tls-verify=true",
        "--dest-authfile=/proc/self/fd/9",
        "--dest-cert-dir=/etc/ca.d",
    ]


def test_the_auth_file_holds_each_login_by_repository_and_is_readable_through_its_path() -> None:
    logins = {"registry.example/team/app": Credentials("robot", "s3cret:with colon")}
    with memory_authfile(logins) as (path, descriptor):
        assert path == f"/proc/self/fd/{descriptor}"
        assert not Path(path).resolve().exists()  # anonymous: no name on any filesystem
        written = json.loads(Path(path).read_bytes())
    token = base64.b64decode(written["auths"]["registry.example/team/app"]["auth"]).decode()
    assert token == "robot:s3cret:with colon"
    assert list(written) == ["auths"]


def test_the_auth_file_is_closed_when_the_block_ends_however_it_ends() -> None:
    with pytest.raises(RuntimeError), memory_authfile({}) as (_, descriptor):
        raise RuntimeError("the copy failed")
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(descriptor)


def test_the_fatal_message_is_cut_from_skopeos_log_line_quotes_unescaped() -> None:
    stderr = (
        b'time="2026-12-01T12:00:00Z" level=warning msg="retrying"\n'
        b'time="2026-12-01T12:00:01Z" level=fatal msg="initializing source '
        b"docker://127.0.0.1:5000/team/app:build-1: reading manifest build-1: "
        b'manifest unknown: \\"build-1\\""\n'
    )
    assert skopeo_message(stderr) == (
        "initializing source docker://127.0.0.1:5000/team/app:build-1: reading manifest "
        'build-1: manifest unknown: "build-1"'
    )


def test_without_a_fatal_line_the_whole_error_output_is_the_message() -> None:
    assert skopeo_message(b"  exec format error\n\xff") == "exec format error\n\ufffd"
