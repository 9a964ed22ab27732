"""Every sub-command has a page in docs/commands/, and every option it takes is named there.

The commands and options come from the parser itself (``build_parser``), so a new option fails
this test until its page names it; the message says which option and which page.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

from tagmgr.cli import build_parser
from tests.support.paths import REPO_ROOT

PAGES = REPO_ROOT / "docs" / "commands"
NAV = REPO_ROOT / "mkdocs.yml"


def sub_commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each sub-command's words (``("versions", "update")``) and parser, nested ones too."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield (*prefix, name), command
                yield from sub_commands(command, (*prefix, name))


def page(words: tuple[str, ...]) -> str:
    return f"docs/commands/{words[0]}.md"


def names(text: str, word: str) -> bool:
    """``word`` stands in ``text`` as a word of its own (``-v`` is not a part of ``-vv``)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def test_every_sub_command_has_a_page_in_the_nav() -> None:
    nav = NAV.read_text(encoding="utf-8")
    tops = sorted({words[0] for words, _ in sub_commands(build_parser())})
    missing = [
        f"tagmgr {name}: no page {page((name,))}, or no line for it in mkdocs.yml's nav"
        for name in tops
        if not (REPO_ROOT / page((name,))).is_file() or f"commands/{name}.md" not in nav
    ]
    assert missing == [], "\n".join(missing)


def test_every_option_of_every_sub_command_is_on_its_page() -> None:
    missing = []
    for words, command in sub_commands(build_parser()):
        path = REPO_ROOT / page(words)
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if len(words) > 1 and not names(text, " ".join(words)):
            missing.append(f"tagmgr {' '.join(words)}: not named in {page(words)}")
        for action in command._actions:
            for option in action.option_strings:
                if option not in {"-h", "--help"} and not names(text, option):
                    missing.append(f"tagmgr {' '.join(words)} {option}: missing from {page(words)}")
    assert missing == [], (
        "\n".join(missing) + "\nName each option on its command's page (an options table, or the"
        " line that lists the shared registry options); docs/reference/options.md describes the"
        " shared ones."
    )
