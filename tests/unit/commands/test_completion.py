"""``tagmgr completion``: each shell's script, loaded into that shell, completes from the parser.

bash is asked through its own completion variables (``COMP_WORDS``), fish through ``complete
-C``, zsh with its completion builtins replaced by functions that print what they were given.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tagmgr.cli import build_parser, main
from tagmgr.commands.shells import read, script
from tests.support.gate import require_program

TIMEOUT = 30

# What each line typed so far (its last word being completed) is offered, in every shell.
CASES = [
    (("pl",), ["plan"]),
    (("versions", "up"), ["update"]),
    (("plan", "--tr"), ["--trust-existing"]),
    (("plan", "-o", ""), ["json", "markdown", "text"]),
    (
        ("schema", ""),
        ["config", "lifecycle-policy", "lock", "manifest", "versions", "versions-image-map"],
    ),
    (("completion", ""), ["bash", "fish", "zsh"]),
    (("apply", "--engine", ""), ["api", "auto", "docker", "skopeo"]),
    (("apply", "--dry"), ["--dry-run"]),
    (("status", "--en"), []),  # status copies nothing: no --engine
    (("-v", "versions", "export", "--format", ""), ["env"]),
]


def written(shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["completion", shell]) == 0
    path = tmp_path / f"tagmgr.{shell}"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def run(*argv: str | Path) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    return done.stdout


BASH_ASK = """
source "$1"; shift
COMP_WORDS=(tagmgr "$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_tagmgr 2>/dev/null
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.mark.parametrize(("typed", "offered"), CASES)
def test_bash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: tuple[str, ...], offered: list[str]
) -> None:
    path = written("bash", tmp_path, capsys)
    assert sorted(run("bash", "-c", BASH_ASK, "bash", path, *typed).split()) == offered


@pytest.mark.parametrize(("typed", "offered"), CASES)
def test_fish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: tuple[str, ...], offered: list[str]
) -> None:
    require_program("fish")
    path = written("fish", tmp_path, capsys)
    line = " ".join(("tagmgr", *typed))
    out = run("fish", "--no-config", "-c", f"source {path}; complete -C {line!r}")
    assert sorted(entry.split("\t")[0] for entry in out.splitlines()) == offered


ZSH_ASK = """
compdef() { : }
_describe() { print -rl -- ${${(P)4}%%:*} }
compadd() { shift; print -rl -- "$@" }
_files() { : }
_message() { : }
source "$1"; shift
words=(tagmgr "$@"); CURRENT=${#words}
_tagmgr
"""


@pytest.mark.parametrize(("typed", "offered"), CASES)
def test_zsh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: tuple[str, ...], offered: list[str]
) -> None:
    """zsh's ``_describe`` filters by what was typed itself: here, the test does."""
    require_program("zsh")
    path = written("zsh", tmp_path, capsys)
    out = run("zsh", "-f", "-c", ZSH_ASK, "zsh", path, *typed)
    assert sorted(word for word in out.split() if word.startswith(typed[-1])) == offered


def spelled(shell: str, option: str) -> str:
    """How a script names ``option``: fish as ``-l NAME`` or ``-s X``."""
    if shell != "fish":
        return option
    return f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_command_and_option_is_in_every_script(shell: str) -> None:
    text = script(shell, build_parser())
    for command in read(build_parser()):
        for name in command.commands:
            assert name in text, (shell, command.path, name)
        for option in (n for o in command.options for n in o.names):
            assert spelled(shell, option) in text, (shell, command.path, option)


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["completion", "tcsh"])
    assert raised.value.code == 64
    assert "invalid choice: 'tcsh' (choose from 'bash', 'zsh', 'fish')" in capsys.readouterr().err
