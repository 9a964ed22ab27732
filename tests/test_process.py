"""The one subprocess wrapper: argv only, every exit code returned, secrets redacted."""

from __future__ import annotations

import pytest

from tagmgr import process
from tagmgr.errors import CommandError


def test_exit_code_and_output_are_returned_whatever_they_are() -> None:
    result = process.run(["sh", "-c", "cat; echo err >&2; exit 7"], stdin=b"in")
    assert (result.returncode, result.stdout, result.stderr) == (7, b"in", b"err\n")


def test_a_program_killed_by_a_signal_is_a_negative_code_not_an_exception() -> None:
    result = process.run(["sh", "-c", 'echo "{\\"Secret\\": \\"s3cret\\"}"; kill -9 $$'])
    assert result.returncode == -9
    assert result.stdout == b'{"Secret": "s3cret"}\n'


def test_arguments_never_go_through_a_shell() -> None:
    assert process.run(["echo", "$HOME; rm -rf /"]).stdout == b"$HOME; rm -rf /\n"


def test_missing_program_and_timeout_are_clear_errors_without_secrets() -> None:
    with pytest.raises(
        CommandError, match=r"^no-such-tool-x: command not found; is it installed\?$"
    ):
        process.run(["no-such-tool-x"])
    with pytest.raises(CommandError) as raised:
        process.run(["sh", "-c", "sleep 5", "hunter2"], timeout=0.2, secrets=["hunter2"])
    assert str(raised.value) == "sh -c sleep 5 <redacted>: still running after 0.2 s; stopped"
