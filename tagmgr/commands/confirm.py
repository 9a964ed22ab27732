"""One confirmation model for every command that changes a registry or a file.

A command first works out what it would change; with nothing to change it goes on without a word.
Otherwise it changes only with a yes: ``--yes`` on its command line, or ``y`` to the question it
asks on stderr when standard input is a terminal. Without a yes nothing changes:

- ``--dry-run`` shows what would change and succeeds, as ``plan`` does (exit 0, 1 on problems;
  with ``--detailed-exitcode``, 2 when something would change);
- a no, an end of input, or no terminal to ask on (a CI job that forgot ``--yes``) shows it too
  and fails (exit 1): a job that meant to change something must not pass having changed nothing.

The yes is only ever read from the command line, never from the environment or a configuration
file: a variable set for every CI job would confirm a pull request's job too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from enum import Enum
from typing import IO

from tagmgr import exitcodes
from tagmgr.system import interrupt

Show = Callable[[IO[str]], None]


class Decision(Enum):
    YES = "yes"  # --yes, y to the question, or nothing to change
    DRY_RUN = "dry-run"
    NO = "no"  # n, end of input, or a signal before or at the question
    UNATTENDED = "unattended"  # no terminal to ask on, and no --yes

    @property
    def shown(self) -> bool:
        """Whether stdout is still to get the report of what would change (no one saw it)."""
        return self in (Decision.DRY_RUN, Decision.UNATTENDED)


def add_options(
    parser: argparse.ArgumentParser, change: str, *, write: bool = False, detailed: bool = True
) -> None:
    """``--yes``/``-y`` (and ``--write``, the older yes of the commands that write files),
    ``--dry-run``, and unless the command has exit codes of its own, ``--detailed-exitcode``."""
    either = parser.add_mutually_exclusive_group()
    yes = ("--yes", "-y", "--write") if write else ("--yes", "-y")
    either.add_argument(*yes, dest="yes", action="store_true", help=f"{change} without asking")
    either.add_argument("--dry-run", action="store_true", help="only show what would change")
    if detailed:
        parser.add_argument(
            "--detailed-exitcode",
            action="store_true",
            help="with --dry-run: exit 2 when something would change (0 when nothing would)",
        )


def confirm(args: argparse.Namespace, pending: bool, show: Show, question: str) -> Decision:
    """The yes or no for ``pending`` changes; on a terminal, ``show`` them and ask."""
    if args.dry_run:
        return Decision.DRY_RUN
    if args.yes or not pending:
        return Decision.YES
    if interrupt.requested():
        return Decision.NO
    if not sys.stdin.isatty():
        return Decision.UNATTENDED
    show(sys.stderr)
    return Decision.YES if ask(question) else Decision.NO


def unchanged(
    args: argparse.Namespace, decision: Decision, *, pending: bool, failed: bool, to: str
) -> int:
    """Say that nothing changed and why; the exit code. ``to``: what ``--yes`` would do."""
    if decision is Decision.DRY_RUN:
        if pending:
            print("tagmgr: dry run: nothing was changed", file=sys.stderr)
        if failed:
            return exitcodes.FAILURE
        return exitcodes.CHANGES_PENDING if pending and args.detailed_exitcode else exitcodes.OK
    if decision is Decision.UNATTENDED:
        print(
            "tagmgr: error: not confirmed, and no terminal to ask on: nothing was changed; give"
            f" --yes to {to}, or --dry-run to only show it",
            file=sys.stderr,
        )
    elif not interrupt.requested():
        print("tagmgr: nothing was changed", file=sys.stderr)
    return exitcodes.FAILURE


def ask(question: str) -> bool:
    """Ask on stderr (stdout may be a file of JSON) and read a yes; end of input is a no, and
    so is an interruption while waiting."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = interrupt.readline(sys.stdin)
    if answer is None:
        return False
    if not answer:
        sys.stderr.write("\n")
    return answer.strip().lower() in {"y", "yes"}
