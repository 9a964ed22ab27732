"""Command-line wiring only: parse arguments, call the core, hand results to a reporter.

Each sub-command is a function from parsed arguments to an exit code (see ``exitcodes``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from tagmgr import __version__, commands, exitcodes
from tagmgr.engines import ENGINES
from tagmgr.errors import TagmgrError
from tagmgr.gitcache import default_cache_dir
from tagmgr.report import report_error
from tagmgr.targets import parse_registry_pair

T = TypeVar("T")

log = logging.getLogger("tagmgr")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 means "changes pending" here, so usage gets 64."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message}\n")


def _common_options() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("files", nargs="+", metavar="FILE", help="manifest files")
    common.add_argument("--output", choices=("text", "json"), default="text", help="report format")
    common.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (-vv: debug log)"
    )
    return common


def _git_options() -> _Parser:
    git = _Parser(add_help=False)
    git.add_argument(
        "--git-cache",
        type=Path,
        default=default_cache_dir(),
        metavar="DIR",
        help="where upstream repositories are cloned (default: %(default)s)",
    )
    git.add_argument(
        "--jobs", type=_positive_int, default=4, metavar="N", help="parallel work (default: 4)"
    )
    return git


def _registry_options() -> _Parser:
    registry = _Parser(add_help=False)
    registry.add_argument(
        "--map-registry",
        action="append",
        default=[],
        type=_argument(parse_registry_pair),
        metavar="FROM=TO",
        help="rewrite the registry part of every name (mirrors, staging)",
    )
    registry.add_argument(
        "--certs-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="CA and client certificates as DIR/HOST:PORT/*.crt (before /etc/containers/certs.d)",
    )
    registry.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="allow plain HTTP or unverified TLS for this non-loopback registry",
    )
    registry.add_argument(
        "--authfile", type=Path, metavar="PATH", help="credentials file (auth.json format)"
    )
    registry.add_argument("--engine", choices=sorted(ENGINES), default="skopeo", help="copy engine")
    return registry


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tagmgr", description="Declarative container-image tag manager.")
    parser.add_argument("--version", action="version", version=f"tagmgr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common, git, registry = _common_options(), _git_options(), _registry_options()

    def add(
        name: str,
        run: Callable[[argparse.Namespace], int],
        text: str,
        parents: Sequence[_Parser],
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=text, description=text, parents=[common, *parents])
        command.set_defaults(run=run)
        return command

    add("validate", commands.validate, "check manifests against the schema and the rules", [])
    add(
        "plan",
        commands.plan,
        "show what apply would do (exit 0: nothing, 2: changes, 1: problems)",
        [git, registry],
    )
    apply = add(
        "apply", commands.apply, "create missing tags; never move an existing one", [git, registry]
    )
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask on a terminal")
    describe = add("describe", commands.describe, "print tags derived from upstream commits", [git])
    describe.add_argument(
        "--write", action="store_true", help="write the derived tags into the files"
    )
    return parser


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser raising TagmgrError, so bad values are usage errors."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except TagmgrError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    return convert


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    # A cancelled CI job sends SIGTERM: unwind like Ctrl-C, so running copies are waited for,
    # verified and their private auth files removed, instead of dying mid-way.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
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
        log.debug("unexpected error", exc_info=True)
        print(
            f"tagmgr: internal error, this is a bug: {type(error).__name__}: {error}\n"
            "Run again with -vv for the traceback and report it.",
            file=sys.stderr,
        )
        return exitcodes.BUG
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _configure_logging(verbosity: int) -> None:
    """Only tagmgr's own loggers: libraries (sh, httpcore) log output and headers at debug."""
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("tagmgr: %(levelname)s: %(message)s"))
    log.handlers = [handler]
    log.setLevel(level)
    log.propagate = False
