"""The progress line: what it draws, how often, and when it draws nothing at all."""

from __future__ import annotations

import io
import os
import pty

from tagmgr.report.model import Options
from tagmgr.report.progress import INTERVAL, Progress

ERASE = "\r\033[K"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_counts_redraws_at_most_every_interval_and_erases_itself() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("plan: reading", enabled=True, stream=stream, clock=clock)
    progress.expect(2)
    progress.advance("reg/a")  # drawn: the first
    progress.expect(2)  # more work learnt meanwhile
    clock.now += INTERVAL / 2
    progress.advance("reg/b")  # too soon: not drawn
    clock.now += INTERVAL
    progress.advance("reg/a:v1")
    progress.advance("reg/b:v1")  # the last of the work known: always drawn
    progress.finish()
    assert stream.getvalue() == (
        f"{ERASE}plan: reading: 1/2 reg/a"
        f"{ERASE}plan: reading: 3/4 reg/a:v1"
        f"{ERASE}plan: reading: 4/4 reg/b:v1"
        f"{ERASE}"
    )


def test_a_line_is_cut_to_the_terminal_at_the_start_of_the_name_and_drops_control_bytes() -> None:
    stream = io.StringIO()  # no terminal size: 80 columns
    with Progress("x", enabled=True, stream=stream) as progress:
        progress.expect(2)
        progress.advance("a\x1b]0;title\x07b")
        progress.advance("registry/" + "n" * 100 + ":v1")
    assert stream.getvalue() == (
        f"{ERASE}x: 1/2 a?]0;title?b{ERASE}x: 2/2 ..." + "n" * 66 + f":v1{ERASE}"
    )


def test_disabled_it_writes_nothing() -> None:
    stream = io.StringIO()
    with Progress("x", enabled=False, stream=stream) as progress:
        progress.expect(3)
        for _ in range(3):
            progress.advance("y")
    assert stream.getvalue() == ""


def test_only_a_terminal_with_text_output_and_no_debug_log_gets_progress() -> None:
    controller, side = pty.openpty()
    try:
        with os.fdopen(os.dup(side), "w") as terminal:
            shown = {
                name: Progress.on_terminal("x", options, terminal).shown
                for name, options in {
                    "text": Options(),
                    "quiet": Options(quiet=True),
                    "-v": Options(verbose=1),
                    "-vv": Options(verbose=2),
                    "json": Options("json"),
                    "markdown": Options("markdown"),
                }.items()
            }
    finally:
        os.close(side)
        os.close(controller)
    assert shown == {
        "text": True,
        "quiet": True,
        "-v": True,
        "-vv": False,
        "json": False,
        "markdown": False,
    }
    assert not Progress.on_terminal("x", Options(), io.StringIO()).shown
