"""The command line's static tables agree with what they stand for."""

from __future__ import annotations

import argparse

import pytest

from tagmgr.cli import build_parser, main
from tagmgr.engines import ENGINES
from tagmgr.engines.names import ENGINE_NAMES


def test_engine_names_are_the_engine_table() -> None:
    assert tuple(sorted(ENGINES)) == ENGINE_NAMES


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every sub-command's parser by its full name (``versions update``), nested ones too."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        assert isinstance(action, argparse._SubParsersAction)
        for name, command in action.choices.items():
            found[name] = command
            found |= {f"{name} {sub}": p for sub, p in _commands(command).items()}
    return found


def test_a_command_built_alone_is_the_command_built_with_all_the_others() -> None:
    everything = _commands(build_parser())
    assert len(everything) > 10
    for name, command in everything.items():
        alone = _commands(build_parser(name.split()))
        assert set(alone) == {n for n in everything if n.split()[0] == name.split()[0]}
        assert alone[name].format_help() == command.format_help(), name


def test_a_word_that_is_no_command_gets_the_whole_table() -> None:
    assert (
        _commands(build_parser(["--verbose", "validat"])).keys() == _commands(build_parser()).keys()
    )


def test_apply_refuses_to_lock_what_it_trusts_unread(capsys: pytest.CaptureFixture[str]) -> None:
    """--trust-existing reads no digest of a listed tag, and a lock records digests."""
    with pytest.raises(SystemExit) as stopped:
        main(["apply", "--trust-existing", "--lock", "tagmgr.lock", "m.yaml"])
    assert stopped.value.code == 64
    assert "argument --lock: not allowed with argument --trust-existing" in capsys.readouterr().err
