"""Completion scripts for bash, zsh and fish, written from an argparse parser.

The parser is read once into ``Command`` records (each sub-command's words, sub-commands, options
and what each option's value is); each shell's script is then those records in its own syntax.
Every script finds the sub-command the same way: it walks the words typed so far, keeping each
word that names a sub-command of the ones before it.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from tagmgr import __version__

FILE_METAVARS = frozenset({"FILE", "PATH", "LOCKFILE"})
DIR_METAVARS = frozenset({"DIR"})


class Option(NamedTuple):
    names: tuple[str, ...]
    help: str
    value: str | tuple[str, ...] | None
    """None: a flag; a tuple: its choices; else ``file``, ``dir`` or the metavar of a text."""


class Command(NamedTuple):
    path: str  # the sub-command's words after ``tagmgr``: "", "plan", "versions update"
    commands: dict[str, str]  # its sub-commands, with their help
    options: list[Option]
    words: tuple[str, ...]  # the choices of a positional argument (schema NAME)


def read(parser: argparse.ArgumentParser, path: str = "") -> Iterator[Command]:
    commands: dict[str, str] = {}
    words: list[str] = []
    options = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            commands = {name: helps.get(name, "") for name in action.choices}
            for name, sub in action.choices.items():
                yield from read(sub, f"{path} {name}".strip())
        elif action.option_strings:
            options.append(Option(tuple(action.option_strings), _help(action), _value(action)))
        elif action.choices:
            words += map(str, action.choices)
    yield Command(path, commands, options, tuple(words))


def _help(action: argparse.Action) -> str:
    text = (action.help or "") % {**vars(action), "prog": "tagmgr"}
    return " ".join(text.split())


def _value(action: argparse.Action) -> str | tuple[str, ...] | None:
    if action.nargs == 0:
        return None
    if action.choices:
        return tuple(map(str, action.choices))
    metavar = str(action.metavar or action.dest.upper())
    if metavar in DIR_METAVARS:
        return "dir"
    return "file" if metavar in FILE_METAVARS else metavar


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    commands = list(read(parser))
    header = (
        f"# {shell} completion for tagmgr {__version__}: `tagmgr completion {shell}` wrote it\n"
    )
    return header + WRITERS[shell](commands)


def _steps(commands: Sequence[Command]) -> list[str]:
    """``PATH:WORD`` for each sub-command WORD of the command at PATH: the walk's steps."""
    return [f"{c.path}:{name}" for c in commands for name in c.commands]


def _values(commands: Sequence[Command]) -> dict[str | tuple[str, ...], list[str]]:
    """``PATH:OPTION`` for every option that takes a value, by what the value is."""
    found: dict[str | tuple[str, ...], list[str]] = defaultdict(list)
    for command in commands:
        for option in command.options:
            if option.value is not None:
                found[option.value] += [f"{command.path}:{name}" for name in option.names]
    return found


def _patterns(keys: Sequence[str], quote: Callable[[str], str] = lambda k: f'"{k}"') -> str:
    return "|".join(map(quote, keys))


def _bash(commands: Sequence[Command]) -> str:
    replies: dict[str, list[str]] = defaultdict(list)
    for value, keys in _values(commands).items():
        if isinstance(value, tuple):
            replies[f'COMPREPLY=($(compgen -W "{" ".join(value)}" -- "$cur"))'] += keys
        elif value == "dir":
            replies['COMPREPLY=($(compgen -d -- "$cur"))'] += keys
        elif value == "file":
            replies[":"] += keys  # nothing here: readline's file names (complete -o default)
        else:
            replies["compopt +o default 2>/dev/null"] += keys  # a word to type: offer none
    cases = [f"        {_patterns(keys)}) {reply}; return ;;" for reply, keys in replies.items()]
    words = [
        f'        "{c.path}") commands="{" ".join([*c.commands, *c.words])}"; '
        f'options="{" ".join(n for o in c.options for n in o.names)}" ;;'
        for c in commands
    ]
    return BASH.format(
        steps=_patterns(_steps(commands)), values="\n".join(cases), words="\n".join(words)
    )


BASH = """\
_tagmgr() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local cmd="" word i commands options
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        case "$cmd:$word" in
        {steps}) cmd="${{cmd:+$cmd }}$word" ;;
        esac
    done
    case "$cmd:$prev" in
{values}
    esac
    case "$cmd" in
{words}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
}}
complete -o default -F _tagmgr tagmgr
"""


def _single(text: str) -> str:
    """``text`` single-quoted for zsh and fish alike."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _zsh_single(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh(commands: Sequence[Command]) -> str:
    cases = []
    for value, keys in _values(commands).items():
        if isinstance(value, tuple):
            reply = f"compadd -- {' '.join(value)}"
        elif value in ("dir", "file"):
            reply = "_files -/" if value == "dir" else "_files"
        else:
            reply = f"_message {_zsh_single(value)}"
        cases.append(f"        ({_patterns(keys)}) {reply}; return ;;")
    words = []
    for c in commands:
        listed = [*(f"{name}:{text}" for name, text in c.commands.items()), *c.words]
        described = [f"{name}:{o.help}" for o in c.options for name in o.names]
        words.append(
            f'        ("{c.path}")\n'
            f"            commands=({' '.join(map(_zsh_single, listed))})\n"
            f"            options=({' '.join(map(_zsh_single, described))}) ;;"
        )
    return ZSH.format(
        steps=_patterns(_steps(commands)), values="\n".join(cases), words="\n".join(words)
    )


ZSH = """\
#compdef tagmgr
_tagmgr() {{
    local cmd="" word i
    local -a commands options
    for ((i = 2; i < CURRENT; i++)); do
        word=${{words[i]}}
        case "$cmd:$word" in
            ({steps}) cmd="${{cmd:+$cmd }}$word" ;;
        esac
    done
    case "$cmd:${{words[CURRENT-1]}}" in
{values}
    esac
    case "$cmd" in
{words}
    esac
    if [[ ${{words[CURRENT]}} == -* ]]; then
        _describe -t options option options
    elif (( ${{#commands}} )); then
        _describe -t commands command commands
    else
        _files
    fi
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _tagmgr "$@"
else
    compdef _tagmgr tagmgr
fi
"""


def _fish(commands: Sequence[Command]) -> str:
    lines = [FISH.format(steps=" ".join(f'"{step}"' for step in _steps(commands)))]
    for c in commands:
        at = f"-n {_single(f'__tagmgr_at {c.path}'.strip())}"
        for name, text in c.commands.items():
            lines.append(f"complete -c tagmgr {at} -a {name} -d {_single(text)}")
        if c.words:
            lines.append(f"complete -c tagmgr {at} -a {_single(' '.join(c.words))}")
        elif not c.commands:
            lines.append(f"complete -c tagmgr {at} -F")
        for option in c.options:
            lines.append(f"complete -c tagmgr {at} {_fish_option(option)}")
    return "\n".join(lines) + "\n"


def _fish_option(option: Option) -> str:
    names = " ".join(
        f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}" for name in option.names
    )
    value = option.value
    if value is None:
        kind = ""
    elif isinstance(value, tuple):
        kind = f" -x -a {_single(' '.join(value))}"
    elif value == "dir":
        kind = " -x -a '(__fish_complete_directories)'"
    else:
        kind = " -r -F" if value == "file" else " -x"
    return f"{names}{kind} -d {_single(option.help)}"


FISH = """\
function __tagmgr_command
    set -l cmd ""
    for word in (commandline -opc)[2..-1]
        switch "$cmd:$word"
            case {steps}
                set cmd (string trim -- "$cmd $word")
        end
    end
    echo $cmd
end

function __tagmgr_at
    set -l cmd (__tagmgr_command)
    test "$cmd" = "$argv"
end

complete -c tagmgr -f"""

WRITERS: dict[str, Callable[[Sequence[Command]], str]] = {
    "bash": _bash,
    "zsh": _zsh,
    "fish": _fish,
}
