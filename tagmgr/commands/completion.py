"""``tagmgr completion bash|zsh|fish``: a shell completion script made from the parser itself.

The script is static text the shell loads once; it knows every command, option and choice of the
tagmgr that wrote it, because it is written from the parser that reads the command line
(``shells``). No completion library: argcomplete would start Python on every TAB (and needs a
hook in the program), and shtab writes no fish.
"""

from __future__ import annotations

import argparse
import sys

from tagmgr import exitcodes
from tagmgr.commands.options import CommandTable

SHELLS = ("bash", "zsh", "fish")


def register(table: CommandTable) -> None:
    command = table.add(
        "completion",
        completion,
        "print a shell completion script",
        example="tagmgr completion bash > ~/.local/share/bash-completion/completions/tagmgr\n"
        'tagmgr completion zsh > "${fpath[1]}/_tagmgr"\n'
        "tagmgr completion fish > ~/.config/fish/completions/tagmgr.fish\n"
        "source <(tagmgr completion bash)     # this shell only",
    )
    command.add_argument("shell", choices=SHELLS, metavar="SHELL", help=", ".join(SHELLS))


def completion(args: argparse.Namespace) -> int:
    from tagmgr.commands import command_line
    from tagmgr.commands.shells import script

    sys.stdout.write(script(args.shell, command_line()))  # a script, whatever --output says
    return exitcodes.OK
