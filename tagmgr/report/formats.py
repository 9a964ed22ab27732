"""The formats, chosen by ``--output`` from ``FORMATS``: each renders any ``Report`` whole.

- text: the report's lines; then, when it has a summary line, that line, what ``--quiet`` left
  out, and a recap of every problem with its place (so the one conflict among 500 entries is
  the last thing on the screen, with its ``file:line``).
- json: one document, the same envelope for every command: ``format``, ``command``, the
  command's own keys, ``summary`` (every count) and ``problems`` (each a location record and a
  message).
- markdown: a heading, the summary, a table and the problems, for a PR comment or a CI job
  summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tagmgr.report.markdown import code, plain, table
from tagmgr.report.model import Options, Report, Row

FORMAT_VERSION = 1


def envelope(report: Report) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "command": report.command,
        **report.results,
        "summary": report.summary,
        "problems": [problem.record() for problem in report.problems],
    }


def render_json(report: Report, _options: Options) -> str:
    return json.dumps(envelope(report), indent=2) + "\n"


def render_text(report: Report, options: Options) -> str:
    shown, hidden = _shown(report.rows, options, lambda row: bool(row.text))
    lines = [row.text for row in shown]
    if report.summary_line is not None:
        lines += ["", f"{report.command}: {report.summary_line}"]
        if hidden:
            lines.append(f"not shown (--quiet): {hidden}")
        if report.problems:
            lines += ["", "problems:", *(f"  {problem}" for problem in report.problems)]
    return "".join(f"{line}\n" for line in lines)


def render_markdown(report: Report, options: Options) -> str:
    lines = [f"## tagmgr {report.command}", ""]
    summary = report.summary_line if report.summary_line is not None else report.headline
    if summary:
        lines += [plain(summary), ""]
    shown, hidden = _shown(report.rows, options, lambda row: bool(row.cells))
    if shown:
        lines += [*table(report.columns, [row.cells for row in shown]), ""]
    if hidden:
        lines += [f"Not shown (`--quiet`): {plain(hidden)}", ""]
    if report.problems:
        lines += [f"### Problems ({len(report.problems)})", ""]
        for problem in report.problems:
            where = str(problem.place)
            lines.append(
                f"- {code(where)}: {plain(problem.message)}"
                if where
                else f"- {plain(problem.message)}"
            )
        lines.append("")
    return "\n".join(lines)


def _shown(
    rows: tuple[Row, ...], options: Options, rendered: Callable[[Row], bool]
) -> tuple[list[Row], str]:
    """The rows to render, and what ``--quiet`` left out: ``3 present, 1 unchanged``."""
    kept = [row for row in rows if rendered(row)]
    if not options.quiet:
        return kept, ""
    hidden: dict[str, int] = {}
    for row in kept:
        if not row.change:
            hidden[row.kind] = hidden.get(row.kind, 0) + 1
    return [row for row in kept if row.change], ", ".join(f"{n} {k}" for k, n in hidden.items())


Render = Callable[[Report, Options], str]

FORMATS: dict[str, Render] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
"""``--output`` NAME -> its renderer; a new format is a function and a line here (and a choice
of ``--output``)."""
