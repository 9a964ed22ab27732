"""Shared argparse pieces: the parser class, option groups every command may take, and the table
that command modules register their sub-commands with.

Command modules keep their top-level imports light (the standard library and small tagmgr modules):
``tagmgr validate`` runs on every commit as a pre-commit hook, so it must not pay for HTTP, git or
Docker libraries it never uses. Heavy modules are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar, cast

from tagmgr import exitcodes
from tagmgr.engines.names import DEFAULT_ENGINE, ENGINE_NAMES
from tagmgr.errors import TagmgrError

if TYPE_CHECKING:
    from tagmgr.oci.registrymap import RegistryMap
    from tagmgr.registry import Registries
    from tagmgr.report.model import Options

T = TypeVar("T")
Run = Callable[[argparse.Namespace], int]


_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # a value, as argparse reads it


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 means "changes pending" here, so usage gets 64.

    A mistyped command, choice or option is answered with the nearest right ones (``mistakes``,
    imported only then), and help keeps the line breaks of its example.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.choice_hints: dict[str, str] = {}

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message}\n")

    def hint(self, dest: str, text: str) -> None:
        """Said after a value that is none of the choices of option ``dest``."""
        self.choice_hints[dest] = text

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        from tagmgr.commands.mistakes import invalid_choice

        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(None, invalid_choice(self.prog, action, value))
        message = invalid_choice(self.prog, action, value, self.choice_hints.get(action.dest))
        raise argparse.ArgumentError(action, message)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, but what is left over is an error of this parser, which knows its own
        options (argparse leaves a sub-command's leftovers to the top level, which does not).

        An unknown option is said before anything else: argparse would take the word after it
        for an argument, and complain about that word instead.
        """
        unknown = [] if self._subparsers or args is None else self._unknown_options(args)
        if unknown:
            self._unrecognized(unknown)
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self._unrecognized(extras)
        return parsed, extras

    def _unknown_options(self, args: Sequence[str]) -> list[str]:
        known = self._option_string_actions
        unknown = []
        for arg in args:
            if arg == "--":
                break
            if arg == "-" or not arg.startswith("-") or _NEGATIVE_NUMBER.match(arg):
                continue
            name = arg.split("=", 1)[0]
            abbreviated = name.startswith("--") and any(option.startswith(name) for option in known)
            if not (name in known or abbreviated or name[:2] in known):
                unknown.append(arg)
        return unknown

    def _unrecognized(self, words: Sequence[str]) -> NoReturn:
        from tagmgr.commands.mistakes import unrecognized

        self.error(unrecognized(words, self._option_string_actions))


class OptionGroups(NamedTuple):
    """Parent parsers a sub-command may inherit; ``output`` is given to every one. ``engine``
    only to the commands that copy an image."""

    output: Parser
    files: Parser
    git: Parser
    registry: Parser
    engine: Parser


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

    def add(
        self, name: str, run: Run, text: str, parents: Sequence[Parser] = (), *, example: str
    ) -> Parser:
        """``example``: command lines (one a line, ``#`` comments allowed) shown under help."""
        if self._skips(name):
            return cast(Parser, _IGNORED)
        command: Parser = self._subparsers.add_parser(
            name,
            help=text,
            description=text,
            epilog=examples(example),
            parents=[self.groups.output, *parents],
        )
        command.set_defaults(run=run)
        return command

    def _skips(self, name: str) -> bool:
        return self._only is not None and name != self._only

    def add_group(self, name: str, text: str, *, example: str) -> CommandTable:
        """A command of sub-commands (``versions update``), whose table adds them; alone
        (``tagmgr versions``) it prints its help.

        The group itself takes no options: argparse would let a sub-command's defaults overwrite
        them (``versions --output json update`` would print text).
        """
        if self._skips(name):
            return _IGNORED_TABLE
        group: Parser = self._subparsers.add_parser(
            name, help=text, description=text, epilog=examples(example)
        )
        return CommandTable(add_commands(group, f"{name}_command"), self.groups)


def add_commands(parser: Parser, dest: str) -> argparse._SubParsersAction[Parser]:
    """The sub-commands of ``parser``; without one, ``parser`` prints its help and exits 0, as
    kubectl and docker do: asking for nothing is asking what there is, not a mistake."""
    parser.set_defaults(run=lambda _args: print_help(parser), output="text", verbose=0)
    return parser.add_subparsers(
        title="commands", metavar="COMMAND", dest=dest, parser_class=Parser
    )


def print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stdout)
    return exitcodes.OK


def examples(text: str) -> str:
    lines = text.strip("\n").splitlines()
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


class _Ignored:
    """What a sub-command that is not being run gets for a parser: every call does nothing."""

    def __getattr__(self, name: str) -> Callable[..., _Ignored]:
        return lambda *args, **kwargs: self


_IGNORED = _Ignored()
_IGNORED_TABLE = cast(CommandTable, _IGNORED)


def option_groups() -> OptionGroups:
    return OptionGroups(
        _output_options(),
        _file_arguments(),
        _git_options(),
        _registry_options(),
        _engine_options(),
    )


def _output_options() -> Parser:
    output = Parser(add_help=False)
    output.add_argument(
        "-o", "--output", choices=("text", "json", "markdown"), default="text", help="report format"
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
    git.add_argument("--jobs", type=positive_int, metavar="N", help="parallel work (default: 4)")
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
    return registry


def _engine_options() -> Parser:
    engine = Parser(add_help=False)
    engine.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        help=f"copy engine (default: {DEFAULT_ENGINE}: the api engine's cheapest path, skopeo "
        "for manifests it cannot read)",
    )
    return engine


def registry_map(args: argparse.Namespace) -> RegistryMap:
    """``--map-registry``, parsed once into one value (empty when none was given)."""
    from tagmgr.oci.registrymap import RegistryMap

    mapping: RegistryMap | None = args.map_registry
    return mapping or RegistryMap()


def open_registries(args: argparse.Namespace) -> Registries:
    """The registry clients a command's registry options describe."""
    from tagmgr.registry import Registries, RegistryOptions
    from tagmgr.registry.policy import RetryPolicy

    times = {"request_timeout": args.request_timeout, "registry_timeout": args.registry_timeout}
    options = RegistryOptions(
        certs_dirs=tuple(args.certs_dir),
        insecure_registries=frozenset(args.insecure_registry),
        authfile=args.authfile,
        max_rps=args.max_rps,
        retry=RetryPolicy()._replace(**{k: v for k, v in times.items() if v is not None}),
    )
    return Registries(options)


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
