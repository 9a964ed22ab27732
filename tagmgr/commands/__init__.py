"""The sub-commands, one module per group; each module's ``register`` adds its own.

A new group is a module here with ``register(table: CommandTable) -> None`` and a line in
``GROUPS``; ``cli`` wires them, and nothing else about the command line changes.
"""

from __future__ import annotations

from tagmgr import __version__
from tagmgr.commands import changes, completion, core, digests, lifecycle, pinrefs, schemas
from tagmgr.commands.options import CommandTable, Parser, add_commands, examples, option_groups

GROUPS = (core, digests, pinrefs, lifecycle, changes, schemas, completion)


def command_line(only: str | None = None) -> Parser:
    """Every sub-command's parser under one; given ``only``, that sub-command's alone (see
    ``CommandTable``), or all of them when ``only`` is none of theirs."""
    parser = Parser(
        prog="tagmgr",
        description="Declarative container-image tag manager.",
        epilog=examples(
            "tagmgr validate manifests/*.yaml\n"
            "tagmgr plan manifests/starlingx.yaml\n"
            "tagmgr COMMAND --help     # its options, with examples"
        ),
    )
    parser.add_argument("--version", action="version", version=f"tagmgr {__version__}")
    subparsers = add_commands(parser, "command")
    table = CommandTable(subparsers, option_groups(), only=only)
    for group in GROUPS:
        group.register(table)
    if only is not None and only not in subparsers.choices:
        return command_line()  # not a sub-command: the usage error names the nearest
    return parser
