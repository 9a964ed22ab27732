"""Where reports go: stdout in the format ``--output`` names, warnings to stderr, and the
Markdown to a GitHub Actions job summary when ``$GITHUB_STEP_SUMMARY`` names one.

The job summary gets the Markdown whatever ``--output`` is, so a workflow step that prints text
(or JSON for a later step) still leaves its summary on the run's page.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from tagmgr.errors import DocumentError, TagmgrError
from tagmgr.report.formats import FORMATS, render_markdown, render_text
from tagmgr.report.model import TEXT, Located, Options, Place, Report, many

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def publish(report: Report, options: Options) -> None:
    for warning in report.warnings:
        sys.stderr.write(f"{warning}\n")
    rendered = FORMATS[options.format](report, options)
    sys.stdout.write(rendered)
    if report.step_summary:
        markdown = rendered if options.format == "markdown" else None
        append_step_summary(markdown or render_markdown(report, options))


def show(report: Report, stream: IO[str], options: Options = TEXT) -> None:
    """The text alone, on ``stream``: a plan shown on stderr before a question."""
    stream.write(render_text(report, options._replace(format="text")))


def append_step_summary(markdown: str) -> None:
    """Append to the job summary, if there is one; a summary that cannot be written is said on
    stderr and changes nothing else (the command's own result stands)."""
    path = os.environ.get(STEP_SUMMARY)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(f"{markdown}\n")
    except OSError as error:
        sys.stderr.write(f"tagmgr: warning: ${STEP_SUMMARY} {path}: {error.strerror}\n")


def report_error(error: TagmgrError, output: str, command: str) -> None:
    """Text on stderr; with ``--output json`` or ``markdown`` also a document on stdout for the
    machine, and the Markdown in the job summary."""
    report = error_report(error, command)
    if output != "text":
        sys.stdout.write(FORMATS[output](report, Options(output)))
    append_step_summary(render_markdown(report, TEXT))
    prefix = "" if isinstance(error, DocumentError) else "tagmgr: error: "
    print(f"{prefix}{error}", file=sys.stderr)


def error_report(error: TagmgrError, command: str) -> Report:
    """A command that failed as a whole: ``error`` and every located problem."""
    problems = tuple(
        Located(Place.at(p.location, p.field), p.message)
        for p in (error.problems if isinstance(error, DocumentError) else [])
    )
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    headline = f"failed: {many(len(problems), 'problem')}" if problems else f"failed: {first}"
    return Report(
        command,
        {"error": str(error)},
        {"problems": len(problems)},
        headline=headline,
        problems=problems,
    )
