"""The confirmation model as a table: what each way of running decides, and what it exits with.

The end-to-end behaviour (a real registry, a real terminal) is tests/integration/
test_confirmation.py; this is the decision alone, with standard input replaced.
"""

from __future__ import annotations

import argparse
import io

import pytest

from tagmgr.cli import build_parser
from tagmgr.commands import confirm
from tagmgr.commands.confirm import Decision
from tests.unit.docs.test_options_documented import sub_commands

CHANGING = {
    ("apply",),
    ("describe",),
    ("lock",),
    ("check",),
    ("pin-refs",),
    ("promote",),
    ("rollback",),
    ("expire",),
    ("versions", "update"),
    ("versions", "release"),
}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def args(*, yes: bool = False, dry_run: bool = False, detailed: bool = False) -> argparse.Namespace:
    return argparse.Namespace(yes=yes, dry_run=dry_run, detailed_exitcode=detailed)


@pytest.fixture
def shown() -> list[str]:
    return []


def decide(shown: list[str], arguments: argparse.Namespace, pending: bool = True) -> Decision:
    return confirm.confirm(arguments, pending, lambda _: shown.append("shown"), "Go?")


def test_off_a_terminal_only_yes_or_dry_run_decide(
    monkeypatch: pytest.MonkeyPatch, shown: list[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # a pipe: never read as an answer
    assert decide(shown, args()) is Decision.UNATTENDED
    assert decide(shown, args(yes=True)) is Decision.YES
    assert decide(shown, args(dry_run=True)) is Decision.DRY_RUN
    assert decide(shown, args(), pending=False) is Decision.YES  # nothing to confirm
    assert decide(shown, args(dry_run=True), pending=False) is Decision.DRY_RUN
    assert shown == []


@pytest.mark.parametrize(
    ("answer", "decision"),
    [("y\n", Decision.YES), ("yes\n", Decision.YES), ("n\n", Decision.NO), ("", Decision.NO)],
)
def test_on_a_terminal_the_answer_decides(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shown: list[str],
    answer: str,
    decision: Decision,
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    assert decide(shown, args()) is decision
    assert shown == ["shown"]
    assert capsys.readouterr().err.startswith("Go? [y/N] ")


@pytest.mark.parametrize(
    ("decision", "flags", "pending", "failed", "code", "said"),
    [
        (Decision.DRY_RUN, {}, True, False, 0, "tagmgr: dry run: nothing was changed\n"),
        (Decision.DRY_RUN, {"detailed": True}, True, False, 2, "tagmgr: dry run: "),
        (Decision.DRY_RUN, {"detailed": True}, False, False, 0, ""),
        (Decision.DRY_RUN, {"detailed": True}, True, True, 1, "tagmgr: dry run: "),
        (Decision.NO, {}, True, False, 1, "tagmgr: nothing was changed\n"),
        (Decision.UNATTENDED, {}, True, False, 1, "tagmgr: error: not confirmed, and no terminal"),
    ],
    ids=["dry", "detailed", "detailed-nothing", "dry-failed", "no", "unattended"],
)
def test_what_a_run_that_changed_nothing_exits_with(
    capsys: pytest.CaptureFixture[str],
    decision: Decision,
    flags: dict[str, bool],
    pending: bool,
    failed: bool,
    code: int,
    said: str,
) -> None:
    exit_code = confirm.unchanged(
        args(**flags), decision, pending=pending, failed=failed, to="do it"
    )
    assert exit_code == code
    err = capsys.readouterr().err
    assert err.startswith(said) if said else err == ""


def test_every_changing_command_takes_yes_and_dry_run_and_nothing_else_does() -> None:
    taking = {
        words: command
        for words, command in sub_commands(build_parser())
        if "--dry-run" in command._option_string_actions
    }
    assert set(taking) == CHANGING
    for words, command in taking.items():
        options = command._option_string_actions
        assert options["--yes"] is options["-y"], words
        assert options["--yes"].dest == "yes", words
        writes_files = words[0] not in {"apply", "promote", "rollback", "expire"}
        assert ("--write" in options) is writes_files, words
        if writes_files:
            assert options["--write"] is options["--yes"], words


def test_yes_is_read_from_the_command_line_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGMGR_YES", "1")
    argv = ["promote", "docker.io/a/b:1", "--to", "dev"]
    assert build_parser(argv).parse_args(argv).yes is False
