"""Shared argparse pieces: the parser class, option groups every command may take, and the table
that command modules register their sub-commands with.

Command modules keep their top-level imports light (the standard library and small tagmgr modules):
``tagmgr validate`` runs on every commit as a pre-commit hook, so it must not pay for HTTP, git or
Docker libraries it never uses. Heavy modules are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn, TypeVar, cast

from tagmgr import exitcodes
from tagmgr.engines.names import DEFAULT_ENGINE, ENGINE_NAMES
from tagmgr.errors import TagmgrError

if TYPE_CHECKING:
    from tagmgr.oci.registrymap import RegistryMap
    from tagmgr.registry import Registries
    from tagmgr.report.model import Options

T = TypeVar("T")
Run = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 means "changes pending" here, so usage gets 64."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message}\n")


class OptionGroups(NamedTuple):
    """Parent parsers a sub-command may inherit; ``output`` is given to every one."""

    output: Parser
    files: Parser
    git: Parser
    registry: Parser


class CommandTable:
    """What a command module sees: ``add`` one sub-command, get its parser to add options to.

    Given ``only``, the name of the sub-command being run, the table builds that one alone and
    hands the others a parser that keeps nothing: argparse looks up message translations for
    every parser it makes, and building all of them was 7 % of the start-up of ``validate`` (a
    pre-commit hook's command; counted with callgrind), of which this saves half.
    """

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[Parser],
        groups: OptionGroups,
        only: str | None = None,
    ):
        self._subparsers = subparsers
        self.groups = groups
        self._only = only

    def add(self, name: str, run: Run, text: str, parents: Sequence[Parser] = ()) -> Parser:
        if self._skips(name):
            return cast(Parser, _IGNORED)
        command: Parser = self._subparsers.add_parser(
            name, help=text, description=text, parents=[self.groups.output, *parents]
        )
        command.set_defaults(run=run)
        return command

    def _skips(self, name: str) -> bool:
        return self._only is not None and name != self._only

    def add_group(self, name: str, text: str) -> CommandTable:
        """A command of sub-commands (``versions update``), whose table adds them.

        The group itself takes no options: argparse would let a sub-command's defaults overwrite
        them (``versions --output json update`` would print text).
        """
        if self._skips(name):
            return _IGNORED_TABLE
        group: Parser = self._subparsers.add_parser(name, help=text, description=text)
        subparsers = group.add_subparsers(
            dest=f"{name}_command", required=True, parser_class=Parser
        )
        return CommandTable(subparsers, self.groups)


class _Ignored:
    """What a sub-command that is not being run gets for a parser: every call does nothing."""

    def __getattr__(self, name: str) -> Callable[..., _Ignored]:
        return lambda *args, **kwargs: self


_IGNORED = _Ignored()
_IGNORED_TABLE = cast(CommandTable, _IGNORED)


def option_groups() -> OptionGroups:
    return OptionGroups(_output_options(), _file_arguments(), _git_options(), _registry_options())


def _output_options() -> Parser:
    output = Parser(add_help=False)
    output.add_argument(
        "--output", choices=("text", "json", "markdown"), default="text", help="report format"
    )
    output.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (-vv: debug log)"
    )
    return output


def quiet_option(parser: argparse.ArgumentParser, hides: str) -> None:
    """``--quiet`` for a command whose report lists items that change nothing."""
    parser.add_argument(
        "-q", "--quiet", action="store_true", help=f"only changes and problems: leave out {hides}"
    )


def report_options(args: argparse.Namespace) -> Options:
    """How the command's report is rendered: ``--output``, ``--quiet``, ``--verbose``."""
    from tagmgr.report.model import Options

    return Options(args.output, getattr(args, "quiet", False), args.verbose)


def _file_arguments() -> Parser:
    files = Parser(add_help=False)
    files.add_argument("files", nargs="+", metavar="FILE", help="manifest files")
    return files


def _git_options() -> Parser:
    git = Parser(add_help=False)
    git.add_argument(
        "--git-cache",
        type=Path,
        metavar="DIR",
        help="where upstream repositories are cloned "
        "(default: $XDG_CACHE_HOME/tagmgr/git, else ~/.cache/tagmgr/git)",
    )
    git.add_argument(
        "--jobs", type=positive_int, default=4, metavar="N", help="parallel work (default: 4)"
    )
    return git


class _MapRegistry(argparse.Action):
    """Each ``--map-registry FROM=TO`` added to one ``RegistryMap``, parsed here once."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        from tagmgr.oci.registrymap import RegistryMap, parse_registry_pair

        mapping: RegistryMap = getattr(namespace, self.dest, None) or RegistryMap()
        try:
            setattr(namespace, self.dest, mapping.adding(*parse_registry_pair(str(values))))
        except TagmgrError as error:
            raise argparse.ArgumentError(self, str(error)) from error


def _registry_options() -> Parser:
    registry = Parser(add_help=False)
    registry.add_argument(
        "--map-registry",
        action=_MapRegistry,
        metavar="FROM=TO",
        help="rewrite the registry part of every name read, files and command line alike "
        "(mirrors, staging)",
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
    registry.add_argument(
        "--request-timeout",
        type=seconds,
        metavar="SECONDS",
        help="the most one request to a registry may take, its retries and their waits "
        "included (default: 30)",
    )
    registry.add_argument(
        "--registry-timeout",
        type=seconds,
        metavar="SECONDS",
        help="a registry that answers nothing for this long is down for the rest of the run "
        "(default: 60)",
    )
    registry.add_argument(
        "--max-rps",
        type=positive_float,
        metavar="N",
        help="start at most N requests a second on each registry (public registries throttle)",
    )
    registry.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=DEFAULT_ENGINE,
        help="copy engine (default: %(default)s: the api engine's cheapest path, skopeo for "
        "manifests it cannot read)",
    )
    return registry


def registry_map(args: argparse.Namespace) -> RegistryMap:
    """``--map-registry``, parsed once into one value (empty when none was given)."""
    from tagmgr.oci.registrymap import RegistryMap

    mapping: RegistryMap | None = args.map_registry
    return mapping or RegistryMap()


def open_registries(args: argparse.Namespace) -> Registries:
    """The registry clients a command's registry options describe."""
    from dataclasses import replace

    from tagmgr.registry import Registries, RegistryOptions
    from tagmgr.registry.policy import RetryPolicy

    times = {"request_timeout": args.request_timeout, "registry_timeout": args.registry_timeout}
    options = RegistryOptions(
        certs_dirs=tuple(args.certs_dir),
        insecure_registries=frozenset(args.insecure_registry),
        authfile=args.authfile,
        max_rps=args.max_rps,
        retry=replace(RetryPolicy(), **{k: v for k, v in times.items() if v is not None}),
    )
    return Registries(options)


def ask(question: str) -> bool:
    """Ask on stderr (stdout may be a file of JSON) and read a yes; end of input is a no, and
    so is an interruption while waiting."""
    from tagmgr.system import interrupt

    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = interrupt.readline(sys.stdin)
    if answer is None:
        return False
    if not answer:
        sys.stderr.write("\n")
    return answer.strip().lower() in {"y", "yes"}


def argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser raising TagmgrError, so bad values are usage errors."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except TagmgrError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    return convert


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


MAX_SECONDS = 86_400.0


def seconds(text: str) -> float:
    """A time in seconds: more than 0, at most a day."""
    value = positive_float(text)
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_SECONDS:g} seconds (a day)")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from error
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value
