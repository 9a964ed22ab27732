"""The one way tagmgr runs a program: argv only, never a shell; captured output, redacted errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sh

from tagmgr.errors import CommandError

REDACTED = "<redacted>"


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


def run(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    secrets: Sequence[str] = (),
) -> Completed:
    """Run ``argv`` and return its result whatever the exit code.

    A program killed by a signal gets a negative ``returncode`` (as in ``subprocess``). Raises
    ``CommandError`` only when the program cannot be started or runs past ``timeout``; callers
    judge the exit code. ``secrets`` are replaced in any message this module builds.
    """
    program, *args = argv
    try:
        command = sh.Command(program)
        result = command(
            *args,
            _in=stdin,
            _env=dict(env) if env is not None else None,
            _timeout=timeout,
            _ok_code=tuple(range(256)),
            _return_cmd=True,
            _tty_out=False,
            _tty_in=False,
        )
    except sh.SignalException as killed:
        # sh raises for signals whatever _ok_code says; its message would carry the output.
        return Completed(tuple(argv), killed.exit_code, killed.stdout, killed.stderr)
    except sh.CommandNotFound as exc:
        raise CommandError(f"{program}: command not found; is it installed?") from exc
    except sh.TimeoutException as exc:
        shown = describe_command(argv, secrets)
        raise CommandError(f"{shown}: still running after {timeout:g} s; stopped") from exc
    return Completed(tuple(argv), result.exit_code, result.stdout, result.stderr)


def describe_command(argv: Sequence[str], secrets: Sequence[str] = ()) -> str:
    return redact(" ".join(argv), secrets)


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
