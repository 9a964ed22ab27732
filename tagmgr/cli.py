"""Command-line wiring only: parse arguments, call the core, hand results to a reporter.

Each sub-command is a function from parsed arguments to an exit code (see ``exitcodes``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from tagmgr import exitcodes
from tagmgr.commands import command_line
from tagmgr.commands.settings import apply_settings
from tagmgr.errors import TagmgrError
from tagmgr.report import report_error
from tagmgr.system import interrupt, logs


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; for ``argv`` that names a sub-command, that sub-command alone.

    The top level takes no option with a value, so the first word that is not an option is the
    sub-command; anything else (``--help``, a typo) gets the whole table.
    """
    return command_line(_named_command(argv))


def _named_command(argv: Sequence[str] | None) -> str | None:
    return next((arg for arg in argv or () if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    # SIGINT and SIGTERM (a cancelled CI job) only ask to stop: the applier starts no new entry,
    # lets running copies finish and be verified, and the report says what was not started.
    with interrupt.handling_signals():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    code = _run(build_parser(arguments).parse_args(arguments))
    if interrupt.requested():
        print("tagmgr: interrupted", file=sys.stderr)
        return interrupt.exit_code()
    return code


def run() -> NoReturn:
    """The ``tagmgr`` program and ``python -m tagmgr``: ``main``, then out without the
    interpreter's teardown, as mypy ends its runs.

    By then every file, connection, thread and child process is closed with the ``with`` that
    opened it, and nothing is registered to run at exit; freeing every module and object one by
    one is a share of ``tagmgr validate`` (docs/design.md), which a pre-commit hook runs on every
    commit.
    tagmgr's signal handling lasts to that end: a signal that comes as tagmgr finishes is one it
    handles, never Python's default (a ``KeyboardInterrupt`` and its traceback).
    """
    with interrupt.handling_signals():
        code = _main(None)
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:  # None: started with that descriptor closed
                    stream.flush()
            except (OSError, ValueError):  # the reader went away (a broken pipe), or closed
                code = code or exitcodes.FAILURE
        os._exit(code)


def _run(args: argparse.Namespace) -> int:
    logs.configure(args.verbose)
    try:
        apply_settings(args)
        return int(args.run(args))
    except KeyboardInterrupt:
        print("tagmgr: interrupted", file=sys.stderr)
        return exitcodes.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (tagmgr plan | head); nothing more can be said on stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.FAILURE
    except TagmgrError as error:
        report_error(error, args.output, args.command)
        return exitcodes.FAILURE
    except Exception as error:  # the last line of defence, reported as a bug
        logs.get(logs.ROOT).debug("unexpected error", exc_info=True)
        print(
            f"tagmgr: internal error, this is a bug: {type(error).__name__}: {error}\n"
            "Run again with -vv for the traceback and report it.",
            file=sys.stderr,
        )
        return exitcodes.BUG
